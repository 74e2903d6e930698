import { createHmac, createSecretKey, verify as verifyAsymmetric, type KeyObject } from 'node:crypto';
import { safeEqual } from './safe-equal.js';
import { singleHeader } from './signature-headers.js';
import { publicKeyFromRaw } from './signature-key.js';
import { WEBHOOK_TIMESTAMP, type ParsedDelivery, type WebhookSchemeDefinition } from './webhook-types.js';

/**
 * Standard Webhooks (standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
 * `webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256>` (symmetric, `whsec_`
 * secrets) and `v1a,<base64 ed25519>` (asymmetric, `whpk_` public keys) over `id.timestamp.body`.
 *
 * @see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */

type StandardKey = { readonly version: 'v1'; readonly key: KeyObject } | { readonly version: 'v1a'; readonly key: KeyObject };

interface StandardSignatures {
  readonly v1: readonly Buffer[];
  readonly v1a: readonly Buffer[];
}

/** The spec's lower bound for symmetric secrets. */
const MIN_SECRET_BYTES = 24;
const MAX_SIGNATURES = 10;
const MESSAGE_ID = /^[\x21-\x7e]{1,256}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export const standardWebhookScheme: WebhookSchemeDefinition<StandardKey, StandardSignatures> = {
  prepareSecrets(secrets) {
    return secrets.map((secret, index) => {
      const name = `secrets[${index}]`;
      if (secret.startsWith('whpk_')) {
        try {
          return { version: 'v1a', key: publicKeyFromRaw(decodeBase64(secret.slice(5), name)) };
        } catch {
          throw new TypeError(`${name}: a whpk_ secret must be the base64 of a 32-byte ed25519 public key`);
        }
      }
      if (secret.startsWith('whsk_')) throw new TypeError(`${name}: whsk_ is the sender's private key; configure its public key (whpk_) instead`);
      const bytes = decodeBase64(secret.startsWith('whsec_') ? secret.slice(6) : secret, name);
      if (bytes.byteLength < MIN_SECRET_BYTES) throw new TypeError(`${name}: a whsec_ secret must decode to at least ${MIN_SECRET_BYTES} bytes`);
      return { version: 'v1', key: createSecretKey(bytes) };
    });
  },

  parse(headers, maxHeaderBytes) {
    const id = singleHeader(headers, 'webhook-id');
    const timestamp = singleHeader(headers, 'webhook-timestamp');
    const signature = singleHeader(headers, 'webhook-signature');
    if (id === undefined && timestamp === undefined && signature === undefined) return 'missing';
    if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signature !== 'string') return 'malformed';
    if (!MESSAGE_ID.test(id) || !WEBHOOK_TIMESTAMP.test(timestamp) || signature.length > maxHeaderBytes) return 'malformed';
    const signatures = parseSignatureList(signature);
    if (signatures === undefined) return 'malformed';
    return { id, timestamp: Number(timestamp), parsed: signatures } satisfies ParsedDelivery<StandardSignatures>;
  },

  verify(delivery, body, keys) {
    const content = Buffer.concat([Buffer.from(`${delivery.id}.${String(delivery.timestamp)}.`, 'latin1'), body]);
    let matched = false;
    for (const key of keys) {
      if (key.version === 'v1') {
        if (delivery.parsed.v1.length === 0) continue;
        const expected = createHmac('sha256', key.key).update(content).digest();
        for (const candidate of delivery.parsed.v1) matched = safeEqual(expected, candidate) || matched;
      } else {
        for (const candidate of delivery.parsed.v1a) matched = (candidate.byteLength === 64 && verifyAsymmetric(null, content, key.key, candidate)) || matched;
      }
    }
    return matched ? delivery.id : undefined;
  },
};

/**
 * `v1,<b64> v1a,<b64>` → signatures by version. Strict: single spaces only, every entry
 * `<version>,<base64>`; versions other than v1 and v1a are skipped (the spec allows new ones), but
 * a header with none of ours is malformed.
 */
function parseSignatureList(header: string): StandardSignatures | undefined {
  const entries = header.split(' ');
  if (entries.length > MAX_SIGNATURES) return undefined;
  const v1: Buffer[] = [];
  const v1a: Buffer[] = [];
  for (const entry of entries) {
    const comma = entry.indexOf(',');
    if (comma <= 0) return undefined;
    const version = entry.slice(0, comma);
    const encoded = entry.slice(comma + 1);
    if (!/^v[0-9]+[a-z]?$/.test(version) || !BASE64.test(encoded) || encoded.length % 4 !== 0) return undefined;
    if (version === 'v1') v1.push(Buffer.from(encoded, 'base64'));
    else if (version === 'v1a') v1a.push(Buffer.from(encoded, 'base64'));
  }
  return v1.length + v1a.length === 0 ? undefined : { v1, v1a };
}

function decodeBase64(text: string, name: string): Buffer {
  if (!BASE64.test(text) || text.length % 4 !== 0) throw new TypeError(`${name} is not valid base64 (expected whsec_<base64> or whpk_<base64>)`);
  return Buffer.from(text, 'base64');
}
