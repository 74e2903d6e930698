import type { FastifyRequest } from 'fastify';
import { webhookFailureError } from '../auth/signature-errors.js';
import type { WebhookVerified } from '../auth/webhook-types.js';
import type { WebhookVerifier } from '../auth/webhook-verifier.js';
import { requestHeaderLines, rawBodyOfRequest } from './raw-body.js';
import type { VerificationHook } from './signatures.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the {@link requireWebhook} hook once the delivery verified. */
    webhook?: WebhookVerified;
  }
}

/**
 * A Fastify `preHandler` hook that verifies a signed webhook delivery (Standard Webhooks, Stripe or
 * GitHub) over the raw body kept by {@link rawBodyParser}. On success `request.webhook` holds the
 * result; on failure it throws an `ApiError` with a `WEBHOOK_*` code.
 *
 * @example
 * await app.register(rawBodyParser);
 * app.post('/webhooks/github', { preHandler: requireWebhook(githubWebhooks) }, async (request) => {
 *   return { delivery: request.webhook?.id, action: (request.body as { action: string }).action };
 * });
 */
export function requireWebhook(verifier: WebhookVerifier): VerificationHook {
  if (verifier === null || typeof verifier?.verify !== 'function') throw new TypeError('requireWebhook needs a verifier from createWebhookVerifier()');
  return async function bulwarkRequireWebhook(request: FastifyRequest) {
    const result = await verifier.verify({ headers: requestHeaderLines(request), body: rawBodyOfRequest(request) ?? Buffer.alloc(0) });
    if (!result.ok) throw webhookFailureError(result.reason);
    request.webhook = result;
  };
}
