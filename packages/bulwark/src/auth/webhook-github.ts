import { createHmac, createSecretKey, hash, type KeyObject } from 'node:crypto';
import { safeEqual } from './safe-equal.js';
import { singleHeader } from './signature-headers.js';
import type { WebhookSchemeDefinition } from './webhook-types.js';

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, keyed with the webhook
 * secret as UTF-8. GitHub signs no timestamp, so a captured delivery could be replayed at any time:
 * the replay cache is the only defence, for as long as it remembers the delivery
 * (`deliveryIdTtlSeconds`). It is keyed on a digest of the signed body, not on `X-GitHub-Delivery`:
 * that header is not signed, so a replay with a fresh id would pass a cache keyed on it. (The id is
 * still required, and reported.) The SHA-1 `X-Hub-Signature` is ignored.
 *
 * @see https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
 */

const MIN_SECRET_LENGTH = 16;
const SIGNATURE = /^sha256=([0-9a-f]{64})$/;
const DELIVERY_ID = /^[A-Za-z0-9-]{1,128}$/;

export const githubWebhookScheme: WebhookSchemeDefinition<KeyObject, string> = {
  prepareSecrets(secrets) {
    return secrets.map((secret, index) => {
      if (secret.length < MIN_SECRET_LENGTH) throw new TypeError(`secrets[${index}]: a GitHub webhook secret must be at least ${MIN_SECRET_LENGTH} characters`);
      return createSecretKey(Buffer.from(secret, 'utf8'));
    });
  },

  parse(headers) {
    const signature = singleHeader(headers, 'x-hub-signature-256');
    const delivery = singleHeader(headers, 'x-github-delivery');
    if (signature === undefined && delivery === undefined) return 'missing';
    if (typeof signature !== 'string' || typeof delivery !== 'string') return 'malformed';
    const match = SIGNATURE.exec(signature);
    if (match === null || !DELIVERY_ID.test(delivery)) return 'malformed';
    return { id: delivery, timestamp: undefined, parsed: match[1] as string };
  },

  verify(delivery, body, keys) {
    let matched = false;
    for (const key of keys) matched = safeEqual(createHmac('sha256', key).update(body).digest('hex'), delivery.parsed) || matched;
    return matched ? hash('sha256', body, 'base64url') : undefined;
  },
};
