import type { RequestHandler } from 'express';
import { authenticateApiKey, resolveApiKeyAuthOptions } from '../auth/api-key-http.js';
import type { ApiKeyAuthOptions, BulwarkApiKeyIdentity } from '../auth/api-key-http.js';

export type { ApiKeyAuthOptions, BulwarkApiKeyIdentity } from '../auth/api-key-http.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `apiKeyAuth()` once the request's API key is verified. */
    bulwark?: BulwarkApiKeyIdentity;
  }
}

/**
 * Express middleware requiring a valid API key (`X-Api-Key`, or `Authorization: Bearer bw_…`) and,
 * optionally, scopes. On success `req.bulwark` holds the identity; on failure an `ApiError` goes to
 * `next(err)` — 401 `API_KEY_MISSING` / `API_KEY_MALFORMED` / `API_KEY_INVALID` / `API_KEY_EXPIRED` /
 * `API_KEY_REVOKED` with `WWW-Authenticate`, 403 `INSUFFICIENT_SCOPE`, 503 when the key store is
 * down — for `problemErrorHandler()` to answer as problem+json.
 *
 * @example
 * app.use('/v1', apiKeyAuth({ verifier }));
 * app.post('/v1/deploys', apiKeyAuth({ verifier, scopes: ['deploy'] }), (req, res) => res.json({ tenant: req.bulwark?.tenant }));
 * app.use(problemErrorHandler());
 */
export function apiKeyAuth(options: ApiKeyAuthOptions): RequestHandler {
  const resolved = resolveApiKeyAuthOptions(options, 'apiKeyAuth');
  return function apiKeyAuthMiddleware(req, _res, next) {
    authenticateApiKey(req.headers, resolved).then(
      (result) => {
        if (!result.ok) {
          next(result.error);
          return;
        }
        req.bulwark = result.identity;
        next();
      },
      (error: unknown) => next(error),
    );
  };
}
