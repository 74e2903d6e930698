import { createHmac, createSecretKey, hash, type KeyObject } from 'node:crypto';
import { safeEqual } from './safe-equal.js';
import { singleHeader } from './signature-headers.js';
import { WEBHOOK_TIMESTAMP, type WebhookSchemeDefinition } from './webhook-types.js';

/**
 * Stripe: `Stripe-Signature: t=<seconds>,v1=<hex HMAC-SHA256>[,v1=…]` over `<t>.<body>`, keyed with
 * the endpoint secret string (`whsec_…`) as it is — Stripe does not base64-decode it. Several `v1`
 * entries appear while Stripe rolls the endpoint secret; `v0` (test-mode legacy) is ignored.
 *
 * @see https://docs.stripe.com/webhooks#verify-manually
 */

const MIN_SECRET_LENGTH = 16;
const MAX_ENTRIES = 10;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
const ENTRY = /^([a-z][a-z0-9]*)=([\x21-\x2b\x2d-\x7e]+)$/;

export const stripeWebhookScheme: WebhookSchemeDefinition<KeyObject, readonly string[]> = {
  prepareSecrets(secrets) {
    return secrets.map((secret, index) => {
      if (secret.length < MIN_SECRET_LENGTH || /\s/.test(secret)) {
        throw new TypeError(`secrets[${index}]: a Stripe endpoint secret is the whsec_… string from the dashboard, without whitespace`);
      }
      return createSecretKey(Buffer.from(secret, 'utf8'));
    });
  },

  parse(headers, maxHeaderBytes) {
    const header = singleHeader(headers, 'stripe-signature');
    if (header === undefined) return 'missing';
    if (header === null || header.length === 0 || header.length > maxHeaderBytes) return 'malformed';
    const entries = header.split(',');
    if (entries.length > MAX_ENTRIES) return 'malformed';
    let timestamp: string | undefined;
    const signatures: string[] = [];
    for (const entry of entries) {
      // Strict: no spaces, no empty entries, `key=value` only — whatever Stripe's own parser tolerates.
      const match = ENTRY.exec(entry);
      if (match === null) return 'malformed';
      const [, key, value] = match as unknown as [string, string, string];
      if (key === 't') {
        if (timestamp !== undefined || !WEBHOOK_TIMESTAMP.test(value)) return 'malformed';
        timestamp = value;
      } else if (key === 'v1') {
        if (!HEX_SHA256.test(value)) return 'malformed';
        signatures.push(value);
      }
    }
    if (timestamp === undefined || signatures.length === 0) return 'malformed';
    return { id: undefined, timestamp: Number(timestamp), parsed: signatures };
  },

  verify(delivery, body, keys) {
    const prefix = Buffer.from(`${String(delivery.timestamp)}.`, 'latin1');
    let matched = false;
    for (const key of keys) {
      const expected = createHmac('sha256', key).update(prefix).update(body).digest('hex');
      for (const candidate of delivery.parsed) matched = safeEqual(expected, candidate) || matched;
    }
    // Stripe sends no message id header, so the replay-cache key is what the signature covers: the
    // timestamp and the body. Not the matched signature: during a roll a delivery carries one v1 per
    // secret, and replaying it with only the other v1 would be a "new" signature.
    return matched ? `${String(delivery.timestamp)}.${hash('sha256', body, 'base64url')}` : undefined;
  },
};
