import type { Registry } from 'prom-client';
import { silentLogger, type LoggerLike } from '../observability/logger-like.js';
import type { ReplayStore } from './replay-store.js';
import { authMetrics } from './signature-metrics.js';
import { integerOption } from './signature-options.js';
import { githubWebhookScheme } from './webhook-github.js';
import { standardWebhookScheme } from './webhook-standard.js';
import { stripeWebhookScheme } from './webhook-stripe.js';
import type { WebhookDelivery, WebhookFailureReason, WebhookScheme, WebhookSchemeDefinition, WebhookVerification, WebhookVerified } from './webhook-types.js';

export interface WebhookVerifierOptions {
  /** Which sender's format: Standard Webhooks, Stripe or GitHub. */
  readonly scheme: WebhookScheme;
  /**
   * The signing secrets; several at once during a rotation (1…5). Standard Webhooks: `whsec_<base64>`
   * (HMAC, `v1`) or `whpk_<base64>` (ed25519 public key, `v1a`). Stripe: the endpoint secret
   * `whsec_…` as shown. GitHub: the webhook secret.
   */
  readonly secrets: readonly string[];
  /** Remembers accepted deliveries (Standard: message id; Stripe: timestamp + body digest; GitHub: body digest) so that each is accepted once. */
  readonly replayStore: ReplayStore;
  /**
   * The replay store namespace of this verifier's deliveries. Give each endpoint its own when one
   * process serves several endpoints of one scheme: a GitHub repository hook and an organisation
   * hook deliver the same push, and under one namespace the second would be refused as a replay.
   * @default `webhook:<scheme>`
   */
  readonly replayNamespace?: string;
  /** How far the signed timestamp may lie from now, both directions, in seconds (1…3600). @default 300 */
  readonly toleranceSeconds?: number;
  /** GitHub only (no timestamp): how long delivery ids are remembered, in seconds. @default 86400 */
  readonly deliveryIdTtlSeconds?: number;
  /** Longest signature header accepted, in bytes. @default 4096 */
  readonly maxHeaderBytes?: number;
  /** Clock in milliseconds, for tests. @default Date.now */
  readonly now?: () => number;
  /** @default defaultMetricsRegistry() */
  readonly registry?: Registry;
  /** @default silentLogger */
  readonly logger?: LoggerLike;
}

export interface WebhookVerifier {
  readonly scheme: WebhookScheme;
  /**
   * Verifies one delivery over its raw bytes. Hostile headers are values (`{ ok: false, reason }`),
   * never exceptions; a body that is not raw bytes (a parsed object) throws a `TypeError`
   * synchronously, because it can never verify and means the raw body was not captured.
   */
  verify(delivery: WebhookDelivery): Promise<WebhookVerification>;
  /**
   * Forgets an accepted delivery, so that the sender's retry of it is accepted: call it when the
   * delivery was verified but not processed (the handler or the upstream failed). Senders retry what
   * they were not answered 2xx for, with the same message id (Standard Webhooks) or body (GitHub
   * redeliveries); without this the retry would be refused as a replay and the event lost. Rejects
   * only when the replay store cannot answer.
   */
  forget(verified: WebhookVerified): Promise<void>;
}

const SCHEMES: { readonly [S in WebhookScheme]: WebhookSchemeDefinition<unknown, unknown> } = {
  standard: standardWebhookScheme as WebhookSchemeDefinition<unknown, unknown>,
  stripe: stripeWebhookScheme as WebhookSchemeDefinition<unknown, unknown>,
  github: githubWebhookScheme as WebhookSchemeDefinition<unknown, unknown>,
};

const FAILURES = Object.fromEntries(
  (['missing', 'malformed', 'bad_signature', 'expired', 'future', 'replayed', 'unavailable'] as const).map((reason) => [reason, Object.freeze({ ok: false as const, reason })]),
) as { readonly [R in WebhookFailureReason]: { readonly ok: false; readonly reason: R } };

/**
 * Creates a verifier of signed webhook deliveries: Standard Webhooks, Stripe or GitHub. Secrets are
 * validated once, here. Each delivery is checked over its raw bytes, its timestamp within
 * ±`toleranceSeconds`, and its message id against the replay store (after the signature matched).
 *
 * @throws TypeError for an unknown scheme, no secrets or more than 5, a secret of the wrong form, or
 *   an option out of range.
 * @example
 * const stripeWebhooks = createWebhookVerifier({ scheme: 'stripe', secrets: [process.env.STRIPE_WEBHOOK_SECRET!], replayStore });
 * const result = await stripeWebhooks.verify({ headers: req.headers, body: req.rawBody });
 */
export function createWebhookVerifier(options: WebhookVerifierOptions): WebhookVerifier {
  if (options === null || typeof options !== 'object') throw new TypeError('createWebhookVerifier needs an options object');
  const scheme = options.scheme;
  if (!Object.hasOwn(SCHEMES, scheme)) throw new TypeError(`scheme must be 'standard', 'stripe' or 'github', got ${String(scheme)}`);
  const definition = SCHEMES[scheme];
  const secrets = options.secrets as unknown;
  if (!Array.isArray(secrets) || secrets.length === 0 || secrets.length > 5 || secrets.some((secret) => typeof secret !== 'string')) {
    throw new TypeError('secrets must be an array of 1 to 5 strings (several only during a rotation)');
  }
  const keys = definition.prepareSecrets(secrets as string[]);
  const replayStore = options.replayStore;
  if (replayStore === undefined || replayStore === null || typeof replayStore.checkAndStore !== 'function') {
    throw new TypeError('replayStore must be a ReplayStore (createMemoryReplayStore or createRedisReplayStore)');
  }
  const replayNamespace = options.replayNamespace ?? `webhook:${scheme}`;
  if (typeof replayNamespace !== 'string' || replayNamespace.length === 0 || replayNamespace.length > 256) {
    throw new TypeError('replayNamespace must be a string of 1 to 256 characters');
  }
  /** The replay id each accepted delivery was recorded under, for `forget`. */
  const recorded = new WeakMap<WebhookVerified, string>();
  const toleranceSeconds = integerOption(options.toleranceSeconds, 'toleranceSeconds', 300, 1, 3600);
  const deliveryIdTtlSeconds = integerOption(options.deliveryIdTtlSeconds, 'deliveryIdTtlSeconds', 86_400, 60, 30 * 86_400);
  const maxHeaderBytes = integerOption(options.maxHeaderBytes, 'maxHeaderBytes', 4096, 256, 65_536);
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const metrics = authMetrics(`webhook_${scheme}`, options.registry);

  async function verifyBytes(delivery: WebhookDelivery, body: Buffer): Promise<WebhookVerification> {
    const parsed = definition.parse(delivery.headers, maxHeaderBytes);
    if (typeof parsed === 'string') return FAILURES[parsed];
    const nowMs = now();
    const nowSeconds = Math.floor(nowMs / 1000);
    if (parsed.timestamp !== undefined) {
      if (parsed.timestamp - nowSeconds > toleranceSeconds) return FAILURES.future;
      if (nowSeconds - parsed.timestamp > toleranceSeconds) return FAILURES.expired;
    }
    const replayKey = definition.verify(parsed, body, keys);
    if (replayKey === undefined) return FAILURES.bad_signature;
    // Remembered while the delivery could be accepted, plus one tolerance for clocks that disagree.
    const ttlMs =
      parsed.timestamp === undefined ? deliveryIdTtlSeconds * 1000 : Math.max(1000, (parsed.timestamp + toleranceSeconds + 1) * 1000 - nowMs) + toleranceSeconds * 1000;
    try {
      if (!(await replayStore.checkAndStore(replayNamespace, replayKey, ttlMs))) return FAILURES.replayed;
    } catch (error) {
      logger.error({ err: error, scheme }, 'replay store unavailable; refusing the webhook (the sender will retry)');
      return FAILURES.unavailable;
    }
    const verified: WebhookVerified = {
      ok: true as const,
      scheme,
      ...(parsed.id === undefined ? {} : { id: parsed.id }),
      ...(parsed.timestamp === undefined ? {} : { timestamp: parsed.timestamp }),
    };
    recorded.set(verified, replayKey);
    return verified;
  }

  return {
    scheme,
    verify(delivery) {
      const body = rawBytesOf(delivery);
      return (async () => {
        const startedAt = performance.now();
        let result: WebhookVerification;
        try {
          result = await verifyBytes(delivery, body);
        } catch (error) {
          logger.error({ err: error, scheme }, 'webhook verification failed unexpectedly; refusing the delivery');
          result = FAILURES.malformed;
        }
        metrics.observe(startedAt, result.ok ? undefined : result.reason);
        return result;
      })();
    },
    async forget(verified) {
      const id = recorded.get(verified);
      if (id === undefined) throw new TypeError('forget() takes a result this verifier accepted');
      recorded.delete(verified);
      await replayStore.release(replayNamespace, id);
    },
  };
}

/** The body as bytes, or a `TypeError` for anything that is not raw bytes (a programming error). */
function rawBytesOf(delivery: WebhookDelivery): Buffer {
  if (delivery === null || typeof delivery !== 'object') throw new TypeError('verify() needs { headers, body }');
  const body: unknown = delivery.body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError(
    `webhook body must be the raw bytes (Buffer, Uint8Array or string), got ${body === null ? 'null' : typeof body}: ` +
      'capture the raw body before any JSON parser (express.raw(), or the rawBody parser of bulwark/fastify) — a re-serialised body never verifies',
  );
}
