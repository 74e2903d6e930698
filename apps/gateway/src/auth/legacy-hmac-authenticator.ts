import { createLegacyHmacVerifier, type ReplayStore } from 'bulwark/auth';
import type { LoggerLike } from 'bulwark/observability';
import type { Registry } from 'prom-client';
import type { AuthConfig } from '../config/auth-schema.js';
import { refuse, type AuthOutcome, type Authenticator } from './authenticator.js';
import { authProblem } from './problems.js';

type LegacyConfig = Extract<AuthConfig, { type: 'legacyHmac' }>;

/**
 * The legacy shared-secret HMAC over `method:path:timestamp` (`X-Timestamp`, `X-Signature`), for
 * internal clients that cannot sign RFC 9421 yet: same length-safe compare, window and replay
 * cache as the library verifier. The identity is the configured `clientId`.
 */
export function createLegacyHmacAuthenticator(config: LegacyConfig, deps: { readonly replayStore: ReplayStore; readonly registry: Registry; readonly logger: LoggerLike }): Authenticator {
  const verifier = createLegacyHmacVerifier({
    secret: config.secrets,
    replayStore: deps.replayStore,
    windowSeconds: config.toleranceSeconds,
    includeQuery: config.includeQuery,
    clientId: config.clientId,
    registry: deps.registry,
    logger: deps.logger,
  });
  const identity = { method: 'legacyHmac' as const, keyId: config.clientId, tenant: undefined, scopes: config.scopes };
  return {
    scheme: 'legacy_hmac',
    consumedHeaders: ['x-signature', 'x-timestamp'],
    needsRawBody: false,
    async authenticate(exchange): Promise<AuthOutcome> {
      const result = await verifier.verify({ method: exchange.request.method ?? 'GET', url: exchange.request.url ?? '/', headers: exchange.request.headers });
      if (!result.ok) return refuse(authProblem('signature', result.reason), result.reason, true);
      return { ok: true, identity };
    },
  };
}
