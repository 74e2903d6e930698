import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { webhookFailureError } from '../auth/signature-errors.js';
import type { WebhookVerified } from '../auth/webhook-types.js';
import type { WebhookVerifier } from '../auth/webhook-verifier.js';
import { ensureRawBody, requestHeaderLines, rawBodyOf } from './raw-body.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by {@link requireWebhook} once the delivery verified. */
    webhook?: WebhookVerified;
  }
}

export interface RequireWebhookOptions {
  /** Largest body read when no parser ran before this middleware. @default '1mb' */
  readonly limit?: number | string;
}

/**
 * Express middleware that verifies a signed webhook delivery (Standard Webhooks, Stripe or GitHub)
 * over the raw body. On success `req.webhook` holds the result; on failure `next` receives an
 * `ApiError` with a `WEBHOOK_*` code (401, 400 when malformed, 503 when the replay store is down).
 *
 * @example
 * app.post('/webhooks/github', requireWebhook(githubWebhooks), (req, res) => {
 *   const event = JSON.parse(req.body.toString('utf8')); // req.body is the raw Buffer here
 *   res.sendStatus(204);
 * });
 */
export function requireWebhook(verifier: WebhookVerifier, options: RequireWebhookOptions = {}): RequestHandler {
  if (verifier === null || typeof verifier?.verify !== 'function') throw new TypeError('requireWebhook needs a verifier from createWebhookVerifier()');
  const limit = options.limit ?? '1mb';
  return function bulwarkRequireWebhook(request: Request, response: Response, next: NextFunction): void {
    ensureRawBody(request, response, limit, (error) => {
      if (error !== undefined) {
        next(error);
        return;
      }
      verifier.verify({ headers: requestHeaderLines(request), body: rawBodyOf(request) ?? Buffer.alloc(0) }).then((result) => {
        if (!result.ok) {
          next(webhookFailureError(result.reason));
          return;
        }
        request.webhook = result;
        next();
      }, next);
    });
  };
}
