import type { KeyObject } from 'node:crypto';
import type { SqlClient } from '../sql/sql-client.js';

/** One per-key rate limit: at most `limit` requests per `windowMs`. */
export interface KeyRateLimit {
  readonly limit: number;
  readonly windowMs: number;
}

/** How a key signs requests (RFC 9421), pinned per key. */
export type SigningAlgorithm = 'hmac-sha256' | 'ed25519';

/** An API key as listed and returned: everything but the secret (and its hash). */
export interface ApiKeyRecord {
  /** `key_…`: public, stable, safe to log. */
  readonly id: string;
  readonly name: string;
  readonly tenant: string;
  /** The environment segment of the key (`live`, `test`…). */
  readonly env: string;
  readonly scopes: readonly string[];
  /** `bw_live_AbC12x`: enough for a person to recognise the key, nothing to use. */
  readonly displayPrefix: string;
  readonly limits: readonly KeyRateLimit[];
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  /** Updated in batches, so it can lag by the flush interval. */
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
  /** The key this one replaced by rotation. */
  readonly rotatedFrom: string | null;
  /** The key that replaced this one; set together with `graceUntil`. */
  readonly rotatedTo: string | null;
  /** After a rotation, this key keeps working until then. */
  readonly graceUntil: Date | null;
  /** Set for request-signing keys. */
  readonly signingAlgorithm: SigningAlgorithm | null;
}

/** A record with its hash, as the verifier reads it. */
export interface StoredApiKey extends ApiKeyRecord {
  /** HMAC-SHA256(pepper, key), hex. */
  readonly hash: string;
}

export type SigningKeyInput = { readonly algorithm: 'hmac-sha256' } | { readonly algorithm: 'ed25519'; readonly publicKey: string };

export interface CreateApiKeyInput {
  /** 1–200 characters, no control characters. */
  readonly name: string;
  /** 1–200 characters, no control characters. */
  readonly tenant: string;
  /** @default 'live' */
  readonly env?: string | undefined;
  /** Each `[A-Za-z0-9_.:-]{1,64}`, optionally ending in `:*`, or `*` (everything); at most 100. @default [] */
  readonly scopes?: readonly string[] | undefined;
  /** At most 10. @default [] */
  readonly limits?: readonly KeyRateLimit[] | undefined;
  /** @default null (never expires) */
  readonly expiresAt?: Date | null | undefined;
  /**
   * Makes the key a request-signing key: `hmac-sha256` generates a secret (returned once, stored
   * encrypted), `ed25519` stores only the public key given (raw 32 bytes base64url, or SPKI PEM).
   * @default undefined
   */
  readonly signing?: SigningKeyInput | undefined;
}

export interface CreatedApiKey {
  /** The plain key: returned this once, never stored. */
  readonly key: string;
  readonly record: ApiKeyRecord;
  /** The HMAC signing secret (base64url), for `hmac-sha256` keys: returned this once. */
  readonly signingSecret?: string;
}

export interface RotateApiKeyOptions {
  /** How long the old key keeps working. 0 ends it now. At most 30 days. @default 86_400_000 (24 h) */
  readonly graceMs?: number | undefined;
  /** The new public key, required to rotate an `ed25519` signing key. */
  readonly publicKey?: string | undefined;
}

export type RotateApiKeyResult =
  | {
      readonly ok: true;
      /** The new plain key: returned this once. */
      readonly key: string;
      readonly record: ApiKeyRecord;
      /** The old key, now with `rotatedTo` and `graceUntil`. */
      readonly previous: ApiKeyRecord;
      readonly signingSecret?: string;
    }
  | { readonly ok: false; readonly reason: 'not_found' | 'revoked' | 'expired' | 'rotated' };

export type RevokeApiKeyResult =
  | {
      readonly ok: true;
      readonly record: ApiKeyRecord;
      /** The key and any predecessor still in its rotation grace period: all stop working. */
      readonly revokedIds: readonly string[];
    }
  | { readonly ok: false; readonly reason: 'not_found' | 'revoked' };

export interface ListApiKeysOptions {
  /** Only this tenant's keys. @default undefined (all) */
  readonly tenant?: string | undefined;
  /** Include revoked keys. @default false */
  readonly includeRevoked?: boolean | undefined;
  /** 1–1000. @default 100 */
  readonly limit?: number | undefined;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string | undefined;
}

export interface ApiKeyPage {
  /** Oldest first. */
  readonly records: readonly ApiKeyRecord[];
  /** Pass as `cursor` for the next page; `undefined` on the last one. */
  readonly nextCursor: string | undefined;
}

export interface LastUsedEntry {
  readonly id: string;
  readonly at: Date;
}

/** What a signature verifier needs for a key id. Check `apiKeyStatus(record)` before trusting it. */
export type SigningKeyMaterial =
  | { readonly record: ApiKeyRecord; readonly algorithm: 'hmac-sha256'; readonly secret: Buffer }
  | { readonly record: ApiKeyRecord; readonly algorithm: 'ed25519'; readonly publicKey: KeyObject };

/**
 * Persistence of API keys. Implementations: {@link createSqlKeyStore} (PostgreSQL and PGlite) and
 * {@link createMemoryKeyStore}; one contract suite runs against all three. Mutations take an
 * optional transaction client, so a key change and its audit entry commit together (the memory
 * store ignores it).
 */
export interface KeyStore {
  /** Creates a key and returns the plain key ONCE. @throws TypeError on invalid input. */
  create(input: CreateApiKeyInput, tx?: SqlClient): Promise<CreatedApiKey>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  list(options?: ListApiKeysOptions): Promise<ApiKeyPage>;
  /** The record with this hash, revoked and expired ones included (the verifier decides). */
  findByHash(hash: string): Promise<StoredApiKey | undefined>;
  /** Issues a new secret; the old key keeps working until `graceUntil`. */
  rotate(id: string, options?: RotateApiKeyOptions, tx?: SqlClient): Promise<RotateApiKeyResult>;
  /** Revokes the key and any predecessor still in its grace period. */
  revoke(id: string, tx?: SqlClient): Promise<RevokeApiKeyResult>;
  /** Records last use for many keys at once (never moves a time backwards). See `createLastUsedRecorder`. */
  touch(entries: readonly LastUsedEntry[]): Promise<void>;
  /** Re-hashes a key under a new pepper (master-key rotation); `false` when `fromHash` no longer matches. */
  replaceHash(id: string, fromHash: string, toHash: string): Promise<boolean>;
  /** The signing secret (decrypted) or public key of a request-signing key. */
  signingKey(id: string): Promise<SigningKeyMaterial | undefined>;
}

/** Whether a key works at `nowMs`: revocation first, then expiry, then the end of a rotation grace period. */
export type ApiKeyStatus = 'active' | 'revoked' | 'expired';

export function apiKeyStatus(record: ApiKeyRecord, nowMs: number = Date.now()): ApiKeyStatus {
  if (record.revokedAt !== null && record.revokedAt.getTime() <= nowMs) return 'revoked';
  if (record.expiresAt !== null && record.expiresAt.getTime() <= nowMs) return 'expired';
  if (record.graceUntil !== null && record.graceUntil.getTime() <= nowMs) return 'expired';
  return 'active';
}
