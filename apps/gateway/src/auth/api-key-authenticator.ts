import type { ApiKeyVerifier } from 'bulwark/auth';
import type { LoggerLike } from 'bulwark/observability';
import type { Exchange } from '../pipeline/exchange.js';
import { refuse, type AuthOutcome, type Authenticator } from './authenticator.js';
import { authProblem } from './problems.js';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * API keys (`bw_<env>_…`): from the route's header (default `x-api-key`) or `Authorization: Bearer`.
 * bulwark/auth's verifier checks the checksum before any lookup, caches, and counts its refusals;
 * a store that cannot answer is 503 DEPENDENCY_UNAVAILABLE (fail closed). The credential is never
 * forwarded and never logged; the identity carries the key id, tenant and scopes.
 */
export function createApiKeyAuthenticator(options: { readonly verifier: ApiKeyVerifier; readonly header: string; readonly logger: LoggerLike }): Authenticator {
  const { verifier, header, logger } = options;

  const presented = (exchange: Exchange): string | undefined => {
    const value = exchange.request.headers[header];
    if (typeof value === 'string') return value;
    const authorization = exchange.request.headers.authorization;
    if (authorization === undefined) return undefined;
    const match = BEARER.exec(authorization);
    if (match === null) return undefined;
    exchange.authorizationConsumed = true;
    return match[1];
  };

  return {
    scheme: 'api_key',
    consumedHeaders: [header],
    needsRawBody: false,
    async authenticate(exchange): Promise<AuthOutcome> {
      let result;
      try {
        result = await verifier.verify(presented(exchange));
      } catch (error) {
        logger.error({ err: error, requestId: exchange.requestId }, 'API key store unavailable');
        return refuse(authProblem('apiKey', 'unavailable'), 'unavailable');
      }
      if (!result.ok) return refuse(authProblem('apiKey', result.reason), result.reason, true);
      const key = result.key;
      return { ok: true, identity: { method: 'apiKey', keyId: key.id, tenant: key.tenant, scopes: key.scopes, ...(key.limits.length === 0 ? {} : { limits: key.limits }) } };
    },
  };
}
