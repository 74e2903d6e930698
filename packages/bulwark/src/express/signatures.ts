import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { LegacyHmacVerifier } from '../auth/legacy-hmac.js';
import { legacyHmacFailureError, signatureFailureError } from '../auth/signature-errors.js';
import type { SignatureVerified } from '../auth/signature-types.js';
import type { SignatureVerifier } from '../auth/signature-verifier.js';
import { ensureRawBody, requestHeaderLines, rawBodyOf } from './raw-body.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by {@link requireSignature} once the RFC 9421 signature verified. */
    signature?: SignatureVerified;
    /** Set by {@link requireLegacyHmac} once the legacy HMAC verified. */
    legacyHmac?: { readonly keyId: string; readonly timestamp: number };
  }
}

export interface RequireSignatureOptions {
  /**
   * The authority the client signed (`@authority`), when a proxy in front rewrites `Host`: a fixed
   * `api.example.com` or a function of the request. @default the Host header
   */
  readonly authority?: string | ((request: Request) => string | undefined);
  /** Largest body read when no parser ran before this middleware. @default '1mb' */
  readonly limit?: number | string;
}

/**
 * Express middleware that requires a valid RFC 9421 signature. On success `req.signature` holds the
 * result; on failure `next` receives an `ApiError` (401, 400 when malformed, 503 when the key or
 * nonce store is down) for the problem+json error handler.
 *
 * The raw body is taken from `req.rawBody` (`express.json({ verify: captureRawBody })`), from a
 * `Buffer` body (`rawBody()`), or read here when no parser ran yet.
 *
 * @example
 * app.use(express.json({ verify: captureRawBody }));
 * app.post('/orders', requireSignature(verifier), (req, res) => res.json({ by: req.signature?.keyId }));
 */
export function requireSignature(verifier: SignatureVerifier, options: RequireSignatureOptions = {}): RequestHandler {
  if (verifier === null || typeof verifier?.verify !== 'function') throw new TypeError('requireSignature needs a verifier from createSignatureVerifier()');
  const limit = options.limit ?? '1mb';
  const authorityOption = options.authority;
  return function bulwarkRequireSignature(request: Request, response: Response, next: NextFunction): void {
    ensureRawBody(request, response, limit, (error) => {
      if (error !== undefined) {
        next(error);
        return;
      }
      const authority = typeof authorityOption === 'function' ? authorityOption(request) : authorityOption;
      const body = rawBodyOf(request);
      verifier
        .verify({
          method: request.method,
          url: request.originalUrl,
          headers: requestHeaderLines(request),
          scheme: request.protocol,
          ...(authority === undefined ? {} : { authority }),
          ...(body === undefined ? {} : { body }),
        })
        .then((result) => {
          if (!result.ok) {
            next(signatureFailureError(result.reason));
            return;
          }
          request.signature = result;
          next();
        }, next);
    });
  };
}

/**
 * Express middleware that requires the legacy shared-secret HMAC (`X-Timestamp`, `X-Signature`
 * over `METHOD:path:timestamp`). On success `req.legacyHmac` holds `{ keyId, timestamp }`.
 *
 * @example
 * app.use('/internal', requireLegacyHmac(createLegacyHmacVerifier({ secret, replayStore })));
 */
export function requireLegacyHmac(verifier: LegacyHmacVerifier): RequestHandler {
  if (verifier === null || typeof verifier?.verify !== 'function') throw new TypeError('requireLegacyHmac needs a verifier from createLegacyHmacVerifier()');
  return function bulwarkRequireLegacyHmac(request: Request, _response: Response, next: NextFunction): void {
    verifier.verify({ method: request.method, url: request.originalUrl, headers: requestHeaderLines(request) }).then((result) => {
      if (!result.ok) {
        next(legacyHmacFailureError(result.reason));
        return;
      }
      request.legacyHmac = { keyId: result.keyId, timestamp: result.timestamp };
      next();
    }, next);
  };
}
