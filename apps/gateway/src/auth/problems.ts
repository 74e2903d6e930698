import { ApiError, type ErrorCode } from 'bulwark/errors';

/**
 * The problem a client gets for each verifier failure reason. Details say what to fix without
 * saying which part of a secret was wrong.
 */
const API_KEY: Readonly<Record<string, ErrorCode>> = { missing: 'API_KEY_MISSING', malformed: 'API_KEY_MALFORMED', invalid: 'API_KEY_INVALID', expired: 'API_KEY_EXPIRED', revoked: 'API_KEY_REVOKED' };
const SIGNATURE: Readonly<Record<string, ErrorCode>> = {
  missing: 'SIGNATURE_MISSING',
  malformed: 'SIGNATURE_MALFORMED',
  unknown_key: 'SIGNATURE_UNKNOWN_KEY',
  bad_signature: 'SIGNATURE_INVALID',
  expired: 'SIGNATURE_EXPIRED',
  future: 'SIGNATURE_FUTURE',
  replayed: 'SIGNATURE_REPLAYED',
  digest_mismatch: 'CONTENT_DIGEST_MISMATCH',
  component_missing: 'SIGNATURE_COMPONENT_MISSING',
  alg_mismatch: 'SIGNATURE_ALG_MISMATCH',
};
const WEBHOOK: Readonly<Record<string, ErrorCode>> = {
  missing: 'WEBHOOK_SIGNATURE_MISSING',
  malformed: 'WEBHOOK_SIGNATURE_MALFORMED',
  bad_signature: 'WEBHOOK_SIGNATURE_INVALID',
  expired: 'WEBHOOK_TIMESTAMP_OUT_OF_RANGE',
  future: 'WEBHOOK_TIMESTAMP_OUT_OF_RANGE',
  replayed: 'WEBHOOK_REPLAYED',
};

export type CredentialKind = 'apiKey' | 'signature' | 'webhook';

/** The problem for a refusal of `kind` with `reason`; `unavailable` (store down) is 503 DEPENDENCY_UNAVAILABLE. */
export function authProblem(kind: CredentialKind, reason: string): ApiError {
  if (reason === 'unavailable') {
    return new ApiError('DEPENDENCY_UNAVAILABLE', { detail: 'Credentials cannot be checked right now; retry shortly.', headers: { 'retry-after': '1' } });
  }
  const table = kind === 'apiKey' ? API_KEY : kind === 'signature' ? SIGNATURE : WEBHOOK;
  return new ApiError(table[reason] ?? 'AUTH_INVALID');
}
