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
 * message id. The identity is the sender (`webhook:<scheme>`), so limits `by: apiKey` count per
 * sender. The signature headers are forwarded: the upstream may verify again.
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
      return { ok: true, identity };
    },
  };
}
