import { z } from 'zod';
import { flag, headerName, identifier, integer } from './primitives.js';

/**
 * The `auth` block of a route (or of `defaults`): how the gateway authenticates a request before it
 * reaches the upstream. `none` is only accepted on routes marked `public: true`.
 */

/** A scope name such as `orders:read` or `admin`. */
export const scopeSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_:.*-]{0,63}$/, 'expected a scope such as orders:read');

/** A shared secret: long enough that a guess is hopeless. */
const sharedSecret = z.string().min(16, 'secrets must be at least 16 characters (use `bulwark secrets generate`)');

const scopes = z.array(scopeSchema).default([]).describe('Every one of these scopes is required (403 INSUFFICIENT_SCOPE otherwise).');

export const authNoneSchema = z.strictObject({
  type: z.literal('none'),
});

export const authApiKeySchema = z
  .strictObject({
    type: z.literal('apiKey'),
    scopes,
    header: headerName().default('x-api-key').describe('Header carrying the key; `Authorization: Bearer <key>` is accepted too.'),
  })
  .describe('An API key (`bw_<env>_…`) looked up in the key store.');

export const authSignatureSchema = z
  .strictObject({
    type: z.literal('signature'),
    scopes,
    keys: z.array(identifier()).min(1).optional().describe('Key ids this route accepts (API keys with signing material, or `signatureKeys`). @default every signing key'),
    toleranceSeconds: integer(1, 600).default(60).describe('Allowed age (and clock skew) of the `created` parameter, in seconds.'),
  })
  .describe('An RFC 9421 HTTP message signature by a signing key of the key store or of `signatureKeys`.');

export const authLegacyHmacSchema = z
  .strictObject({
    type: z.literal('legacyHmac'),
    clientId: identifier().default('legacy').describe('The key id the identity carries (logs, limits by apiKey).'),
    secrets: z.array(z.string().min(32, 'legacy HMAC secrets must be at least 32 characters (use `bulwark secrets generate`)')).min(1).max(5).describe('Accepted secrets; several during a rotation.'),
    toleranceSeconds: integer(1, 600).default(60),
    includeQuery: flag().default(true).describe('The signed path includes the query string.'),
    scopes,
  })
  .describe('The legacy shared-secret HMAC over `method:path:timestamp`.');

export const WEBHOOK_SCHEMES = ['standard', 'stripe', 'github'] as const;

export const authWebhookSchema = z
  .strictObject({
    type: z.literal('webhook'),
    scheme: z.enum(WEBHOOK_SCHEMES).describe('Standard Webhooks, Stripe or GitHub.'),
    secrets: z.array(sharedSecret).min(1).max(5).describe('Accepted signing secrets; several during a rotation.'),
    toleranceSeconds: integer(1, 3600).default(300),
  })
  .describe('A signed webhook delivery, verified over the raw body bytes.');

export const authSessionSchema = z
  .strictObject({
    type: z.literal('session'),
    scopes,
    csrf: flag().default(true).describe('Require the CSRF check on unsafe methods.'),
  })
  .describe('A browser session cookie (needs the session module).');

export const authSchema = z.discriminatedUnion('type', [
  authNoneSchema,
  authApiKeySchema,
  authSignatureSchema,
  authLegacyHmacSchema,
  authWebhookSchema,
  authSessionSchema,
]);

export type AuthConfig = z.output<typeof authSchema>;
export type AuthType = AuthConfig['type'];

export const SIGNATURE_ALGORITHMS = ['hmac-sha256', 'ed25519'] as const;

export const signatureKeySchema = z
  .strictObject({
    algorithm: z.enum(SIGNATURE_ALGORITHMS).describe('Pinned: a signature made with another algorithm is rejected.'),
    secret: z.string().min(32, 'HMAC secrets must be at least 32 characters').optional().describe('hmac-sha256 only: the shared secret.'),
    publicKey: z.string().min(32).optional().describe('ed25519 only: the public key (PEM or base64url of the 32 raw bytes).'),
    scopes: z.array(scopeSchema).default([]),
    tenant: identifier().optional(),
  })
  .superRefine((key, context) => {
    if (key.algorithm === 'hmac-sha256' && (key.secret === undefined || key.publicKey !== undefined)) {
      context.addIssue({ code: 'custom', message: 'an hmac-sha256 key needs `secret` and no `publicKey`' });
    }
    if (key.algorithm === 'ed25519' && (key.publicKey === undefined || key.secret !== undefined)) {
      context.addIssue({ code: 'custom', message: 'an ed25519 key needs `publicKey` only (the server never holds the private key)' });
    }
  });

export type SignatureKeyConfig = z.output<typeof signatureKeySchema>;
