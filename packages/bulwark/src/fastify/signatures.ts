import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LegacyHmacVerifier } from '../auth/legacy-hmac.js';
import { legacyHmacFailureError, signatureFailureError } from '../auth/signature-errors.js';
import type { SignatureVerified } from '../auth/signature-types.js';
import type { SignatureVerifier } from '../auth/signature-verifier.js';
import { requestHeaderLines, rawBodyOfRequest } from './raw-body.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the {@link requireSignature} hook once the RFC 9421 signature verified. */
    signature?: SignatureVerified;
    /** Set by the {@link requireLegacyHmac} hook once the legacy HMAC verified. */
    legacyHmac?: { readonly keyId: string; readonly timestamp: number };
  }
}

export interface RequireSignatureOptions {
  /**
   * The authority the client signed (`@authority`), when a proxy in front rewrites `Host`: a fixed
   * `api.example.com` or a function of the request. @default the Host header
   */
  readonly authority?: string | ((request: FastifyRequest) => string | undefined);
}

/** A Fastify hook: use it as `preHandler` (after body parsing, so the raw bytes are there). */
export type VerificationHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * A Fastify `preHandler` hook that requires a valid RFC 9421 signature. On success
 * `request.signature` holds the result; on failure it throws an `ApiError` (401, 400 when
 * malformed, 503 when the key or nonce store is down) for Bulwark's problem+json error handler.
 * Bodies must reach it as raw bytes: register {@link rawBodyParser} in the route's scope.
 *
 * @example
 * await app.register(rawBodyParser);
 * app.post('/orders', { preHandler: requireSignature(verifier) }, async (request) => ({ by: request.signature?.keyId }));
 */
export function requireSignature(verifier: SignatureVerifier, options: RequireSignatureOptions = {}): VerificationHook {
  if (verifier === null || typeof verifier?.verify !== 'function') throw new TypeError('requireSignature needs a verifier from createSignatureVerifier()');
  const authorityOption = options.authority;
  return async function bulwarkRequireSignature(request) {
    const body = rawBodyOfRequest(request);
    const authority = typeof authorityOption === 'function' ? authorityOption(request) : authorityOption;
    const result = await verifier.verify({
      method: request.method,
      url: request.url,
      headers: requestHeaderLines(request),
      scheme: request.protocol,
      ...(authority === undefined ? {} : { authority }),
      ...(body === undefined ? {} : { body }),
    });
    if (!result.ok) throw signatureFailureError(result.reason);
    request.signature = result;
  };
}

/**
 * A Fastify hook (`onRequest` or `preHandler`) that requires the legacy shared-secret HMAC. On
 * success `request.legacyHmac` holds `{ keyId, timestamp }`.
 *
 * @example
 * app.addHook('onRequest', requireLegacyHmac(createLegacyHmacVerifier({ secret, replayStore })));
 */
export function requireLegacyHmac(verifier: LegacyHmacVerifier): VerificationHook {
  if (verifier === null || typeof verifier?.verify !== 'function') throw new TypeError('requireLegacyHmac needs a verifier from createLegacyHmacVerifier()');
  return async function bulwarkRequireLegacyHmac(request) {
    const result = await verifier.verify({ method: request.method, url: request.url, headers: requestHeaderLines(request) });
    if (!result.ok) throw legacyHmacFailureError(result.reason);
    request.legacyHmac = { keyId: result.keyId, timestamp: result.timestamp };
  };
}
