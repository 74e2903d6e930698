import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticateApiKey, resolveApiKeyAuthOptions } from '../auth/api-key-http.js';
import type { ApiKeyAuthOptions, BulwarkApiKeyIdentity } from '../auth/api-key-http.js';

export type { ApiKeyAuthOptions, BulwarkApiKeyIdentity } from '../auth/api-key-http.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the `apiKeyAuth()` hook once the request's API key is verified. */
    bulwark?: BulwarkApiKeyIdentity;
  }
}

/**
 * A Fastify `onRequest` (or `preHandler`) hook requiring a valid API key (`X-Api-Key`, or
 * `Authorization: Bearer bw_…`) and, optionally, scopes. On success `request.bulwark` holds the
 * identity; on failure it throws an `ApiError` — 401 `API_KEY_*` with `WWW-Authenticate`, 403
 * `INSUFFICIENT_SCOPE`, 503 when the key store is down — for Bulwark's problem+json error handler.
 *
 * @example
 * app.addHook('onRequest', apiKeyAuth({ verifier }));
 * app.post('/deploys', { onRequest: apiKeyAuth({ verifier, scopes: ['deploy'] }) }, async (request) => ({ tenant: request.bulwark?.tenant }));
 */
export function apiKeyAuth(options: ApiKeyAuthOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const resolved = resolveApiKeyAuthOptions(options, 'apiKeyAuth');
  return async function apiKeyAuthHook(request) {
    const result = await authenticateApiKey(request.headers, resolved);
    if (!result.ok) throw result.error;
    request.bulwark = result.identity;
  };
}
