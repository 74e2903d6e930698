import { ApiError } from '../errors/api-error.js';
import type { ErrorCode } from '../errors/catalogue.js';
import type { LegacyHmacFailureReason } from './legacy-hmac.js';
import type { SignatureFailureReason } from './signature-types.js';
import type { WebhookFailureReason } from './webhook-types.js';

/**
 * Verification failures as {@link ApiError}s, for the framework adapters: 401 for every refusal,
 * 400 for malformed headers, 503 (with `Retry-After`) when a key lookup or replay store is down —
 * never a 500. Details are written for the client and say what to fix, never which secret was tried.
 */

const SIGNATURE_ERRORS: { readonly [R in SignatureFailureReason]: readonly [ErrorCode, string] } = {
  missing: ['SIGNATURE_MISSING', 'This endpoint requires an HTTP message signature (Signature-Input and Signature headers, RFC 9421).'],
  malformed: ['SIGNATURE_MALFORMED', 'The signature headers could not be parsed, are too large, or use a component or parameter this server does not support.'],
  unknown_key: ['SIGNATURE_UNKNOWN_KEY', 'The keyid of the signature is not known.'],
  bad_signature: ['SIGNATURE_INVALID', 'The signature does not match the request.'],
  expired: ['SIGNATURE_EXPIRED', 'The signature was created too long ago (or has expired); sign the request again.'],
  future: ['SIGNATURE_FUTURE', 'The signature was created in the future; check the client clock.'],
  replayed: ['SIGNATURE_REPLAYED', 'This signature nonce was already used; sign each request with a fresh nonce.'],
  digest_mismatch: ['CONTENT_DIGEST_MISMATCH', 'The Content-Digest header does not match the request body.'],
  component_missing: ['SIGNATURE_COMPONENT_MISSING', 'The signature must cover @method, @authority, @path, @query and (with a body) content-digest, with created, keyid and nonce parameters.'],
  alg_mismatch: ['SIGNATURE_ALG_MISMATCH', 'The signature algorithm is not the one registered for this key.'],
  unavailable: ['DEPENDENCY_UNAVAILABLE', 'The signature cannot be checked right now; retry shortly.'],
};

const LEGACY_HMAC_ERRORS: { readonly [R in LegacyHmacFailureReason]: readonly [ErrorCode, string] } = {
  missing: ['SIGNATURE_MISSING', 'This endpoint requires the X-Timestamp and X-Signature headers.'],
  malformed: ['SIGNATURE_MALFORMED', 'X-Timestamp must be an integer number of seconds and X-Signature a hex HMAC-SHA256, each sent once.'],
  bad_signature: SIGNATURE_ERRORS.bad_signature,
  expired: ['SIGNATURE_EXPIRED', 'X-Timestamp is too old; sign the request again.'],
  future: SIGNATURE_ERRORS.future,
  replayed: ['SIGNATURE_REPLAYED', 'This signature was already used.'],
  unavailable: SIGNATURE_ERRORS.unavailable,
};

const WEBHOOK_ERRORS: { readonly [R in WebhookFailureReason]: readonly [ErrorCode, string] } = {
  missing: ['WEBHOOK_SIGNATURE_MISSING', 'The webhook signature headers are missing.'],
  malformed: ['WEBHOOK_SIGNATURE_MALFORMED', 'The webhook signature headers are malformed.'],
  bad_signature: ['WEBHOOK_SIGNATURE_INVALID', 'The webhook signature does not match the payload.'],
  expired: ['WEBHOOK_TIMESTAMP_OUT_OF_RANGE', 'The webhook timestamp is too old.'],
  future: ['WEBHOOK_TIMESTAMP_OUT_OF_RANGE', 'The webhook timestamp is in the future.'],
  replayed: ['WEBHOOK_REPLAYED', 'This webhook message was already received.'],
  unavailable: ['DEPENDENCY_UNAVAILABLE', 'The webhook cannot be checked right now; retry shortly.'],
};

/** Seconds a client should wait when verification is unavailable. */
const RETRY_AFTER_SECONDS = '1';

function toError([code, detail]: readonly [ErrorCode, string], reason: string): ApiError {
  return new ApiError(code, {
    detail,
    extensions: { reason },
    ...(code === 'DEPENDENCY_UNAVAILABLE' ? { headers: { 'retry-after': RETRY_AFTER_SECONDS } } : {}),
  });
}

/** The error for a refused RFC 9421 signature. */
export function signatureFailureError(reason: SignatureFailureReason): ApiError {
  return toError(SIGNATURE_ERRORS[reason] ?? SIGNATURE_ERRORS.malformed, reason);
}

/** The error for a refused legacy HMAC request (the same `SIGNATURE_*` codes, its own details). */
export function legacyHmacFailureError(reason: LegacyHmacFailureReason): ApiError {
  return toError(LEGACY_HMAC_ERRORS[reason] ?? LEGACY_HMAC_ERRORS.malformed, reason);
}

/** The error for a refused webhook delivery (`WEBHOOK_*` codes). */
export function webhookFailureError(reason: WebhookFailureReason): ApiError {
  return toError(WEBHOOK_ERRORS[reason] ?? WEBHOOK_ERRORS.malformed, reason);
}
