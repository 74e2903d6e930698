import { createWebhookVerifier, type ReplayStore } from 'bulwark/auth';
import type { LoggerLike } from 'bulwark/observability';
import type { Registry } from 'prom-client';
import type { AuthConfig } from '../config/auth-schema.js';
import { refuse, type AuthOutcome, type Authenticator } from './authenticator.js';
import { authProblem } from './problems.js';

type WebhookConfig = Extract<AuthConfig, { type: 'webhook' }>;

/**
 * Signed webhook deliveries (Standard Webhooks, Stripe, GitHub), verified over the raw body bytes
 * with every configured secret (rotation), the timestamp tolerance and a replay cache on the
 * message id (per route). The identity is the sender (`webhook:<scheme>:<route>`), so limits
 * `by: apiKey` count per sender. The signature headers are forwarded: the upstream may verify
 * again. A delivery that does not end in a 2xx answer is forgotten again, so that its retry passes.
 */
export function createWebhookAuthenticator(
  routeName: string,
  config: WebhookConfig,
  deps: { readonly replayStore: ReplayStore; readonly registry: Registry; readonly logger: LoggerLike },
): Authenticator {
  const verifier = createWebhookVerifier({
    scheme: config.scheme,
    secrets: config.secrets,
    replayStore: deps.replayStore,
    // One namespace per route: two endpoints of one sender (a repository and an organisation hook)
    // receive the same delivery, and neither copy is a replay of the other.
    replayNamespace: `webhook:${config.scheme}:${routeName}`,
    toleranceSeconds: config.toleranceSeconds,
    registry: deps.registry,
    logger: deps.logger,
  });
  const identity = { method: 'webhook' as const, keyId: `webhook:${config.scheme}:${routeName}`, tenant: undefined, scopes: [] };
  return {
    scheme: `webhook_${config.scheme}`,
    consumedHeaders: [],
    needsRawBody: true,
    async authenticate(exchange): Promise<AuthOutcome> {
      const result = await verifier.verify({ headers: exchange.request.headers, body: exchange.body ?? Buffer.alloc(0) });
      if (!result.ok) return refuse(authProblem('webhook', result.reason), result.reason, true);
      // A delivery the upstream did not accept will be retried by its sender with the same id (or,
      // for GitHub, the same body): it must not then be refused as a replay.
      const undo = (): Promise<void> =>
        verifier.forget(result).catch((error: unknown) => deps.logger.warn({ err: error, route: routeName }, 'could not forget a webhook delivery the upstream did not accept; its retry will be refused as a replay'));
      return { ok: true, identity, undo };
    },
  };
}
