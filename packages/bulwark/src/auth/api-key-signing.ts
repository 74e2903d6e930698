import { silentLogger } from '../observability/logger-like.js';
import type { LoggerLike } from '../observability/logger-like.js';
import { createKeyCache } from './key-cache.js';
import type { KeyCacheOptions } from './key-cache.js';
import type { KeyStore } from './key-store.js';
import type { RevocationBus } from './revocation.js';
import { hmacSignatureKey } from './signature-key.js';
import type { SignatureKey, SignatureKeyLookup } from './signature-types.js';

export interface SigningKeyLookupOptions {
  /** The key store holding request-signing keys (created with `signing`). */
  readonly store: Pick<KeyStore, 'signingKey'>;
  /** Cache sizing, as for the API key verifier. @default { maxSize: 10_000, ttlMs: 5000, negativeMaxSize: 10_000, negativeTtlMs: 1000 } */
  readonly cache?: KeyCacheOptions | undefined;
  /** Drops rotated and revoked keys from the cache as soon as they are broadcast. @default undefined */
  readonly revocation?: RevocationBus | undefined;
  /** Receives decryption failures (wrong master key, altered row). @default silentLogger */
  readonly logger?: LoggerLike | undefined;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: (() => number) | undefined;
}

/** A usable signing key with the owner of its API key record. */
export interface SigningKeyOwner {
  readonly key: SignatureKey;
  readonly tenant: string;
  readonly scopes: readonly string[];
}

/** The verifier's `keys` lookup, the owner of a key for callers that need the identity behind it, and `close`. */
export interface SigningKeyLookup extends SignatureKeyLookup {
  /** The key of `keyId` with its record's tenant and scopes, or undefined as for the lookup itself. */
  owner(keyId: string): Promise<SigningKeyOwner | undefined>;
  /** Stops listening to revocation broadcasts. */
  close(): void;
}

interface CachedSigningKey extends SigningKeyOwner {
  readonly id: string;
  readonly revokedAtMs: number;
  readonly endsAtMs: number;
}

/** Key ids are `key_` + 22 base62 characters; anything else is refused before any lookup. */
const KEY_ID = /^key_[0-9A-Za-z]{22}$/;

/**
 * The `keys` lookup of the RFC 9421 signature verifier, backed by the key store: `keyid` is the API
 * key id, the algorithm is the one pinned when the key was created, the HMAC secret is decrypted
 * from the store (an Ed25519 key only ever has its public half there). Revoked keys, expired keys
 * and rotated keys past their grace period are unknown. Lookups are cached like API keys (bounded,
 * short TTL, revocation broadcasts), so a signed request does not cost a database round trip.
 *
 * @example
 * const signatures = createSignatureVerifier({ keys: createSigningKeyLookup({ store, revocation }), nonceStore });
 */
export function createSigningKeyLookup(options: SigningKeyLookupOptions): SigningKeyLookup {
  const { store, revocation } = options;
  if (typeof store?.signingKey !== 'function') throw new TypeError('createSigningKeyLookup: store must be a KeyStore');
  const cache = createKeyCache<CachedSigningKey>(options.cache);
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const unsubscribe = revocation?.subscribe((event) => {
    if (event.type === 'resync') cache.clear();
    else for (const id of event.keyIds) cache.invalidate(id);
  });

  const usable = (cached: CachedSigningKey, nowMs: number): CachedSigningKey | undefined => (cached.revokedAtMs > nowMs && cached.endsAtMs > nowMs ? cached : undefined);

  const load = async (keyId: string): Promise<CachedSigningKey | undefined> => {
    let material;
    try {
      material = await store.signingKey(keyId);
    } catch (error) {
      // A store that is down is not a verdict on the key: let the caller answer 503.
      if (!(error instanceof Error) || error.name !== 'DecryptionError') throw error;
      // A secret that no longer decrypts is an operator problem, not the client's: log it, refuse the key.
      logger.error({ err: error, keyId }, 'could not decrypt the signing secret of a key (wrong master key, or an altered row)');
      return undefined;
    }
    if (material === undefined) return undefined;
    const { record } = material;
    // The HMAC key is the secret as the key store showed it — `signingSecret`, base64url text — used
    // as UTF-8 bytes: what a client passes to `createSigner({ key: signingSecret })`, and what the
    // gateway and `bulwark sign` use. (The decoded bytes would be a different key.)
    const key: SignatureKey = material.algorithm === 'hmac-sha256' ? hmacSignatureKey(keyId, material.secret.toString('base64url')) : Object.freeze({ keyId, algorithm: 'ed25519', publicKey: material.publicKey });
    const ends = [record.expiresAt, record.graceUntil].filter((date): date is Date => date !== null).map((date) => date.getTime());
    return {
      id: keyId,
      key,
      tenant: record.tenant,
      scopes: record.scopes,
      revokedAtMs: record.revokedAt?.getTime() ?? Number.POSITIVE_INFINITY,
      endsAtMs: ends.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...ends),
    };
  };

  const find = async (keyId: string): Promise<CachedSigningKey | undefined> => {
    if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) return undefined;
    const nowMs = now();
    const cached = cache.get(keyId, nowMs);
    if (cached?.kind === 'negative') return undefined;
    if (cached?.kind === 'hit') return usable(cached.value, nowMs);
    const generation = cache.generation();
    const loaded = await load(keyId);
    const loadedAtMs = now();
    if (loaded === undefined) {
      cache.setNegative(keyId, loadedAtMs, generation);
      return undefined;
    }
    cache.set(keyId, loaded, loadedAtMs, generation);
    return usable(loaded, loadedAtMs);
  };
  const lookup = async (keyId: string): Promise<SignatureKey | undefined> => (await find(keyId))?.key;
  return Object.assign(lookup, {
    owner: async (keyId: string): Promise<SigningKeyOwner | undefined> => {
      const found = await find(keyId);
      return found === undefined ? undefined : { key: found.key, tenant: found.tenant, scopes: found.scopes };
    },
    close: () => unsubscribe?.(),
  });
}
