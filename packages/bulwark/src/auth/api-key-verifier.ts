import { hash as digest } from 'node:crypto';
import type { Registry } from 'prom-client';
import { silentLogger } from '../observability/logger-like.js';
import type { LoggerLike } from '../observability/logger-like.js';
import { counterIn, defaultMetricsRegistry } from '../observability/metrics-registry.js';
import { isApiKeyEnv, scanApiKey } from './api-key-format.js';
import { checkPepper, hashApiKey } from './api-key-hash.js';
import { createKeyCache } from './key-cache.js';
import type { KeyCacheOptions } from './key-cache.js';
import type { KeyRateLimit, KeyStore, SigningAlgorithm, StoredApiKey } from './key-store.js';
import type { LastUsedRecorder } from './key-store-last-used.js';
import type { RevocationBus } from './revocation.js';
import { safeEqual } from './safe-equal.js';

/** The identity a valid key carries: what the request handler and the rate limiter need. */
export interface VerifiedApiKey {
  readonly id: string;
  readonly name: string;
  readonly tenant: string;
  readonly env: string;
  readonly scopes: readonly string[];
  readonly limits: readonly KeyRateLimit[];
  readonly expiresAt: Date | null;
  readonly signingAlgorithm: SigningAlgorithm | null;
}

export type ApiKeyFailureReason = 'missing' | 'malformed' | 'invalid' | 'expired' | 'revoked';

export type ApiKeyVerification = { readonly ok: true; readonly key: VerifiedApiKey } | { readonly ok: false; readonly reason: ApiKeyFailureReason };

export interface ApiKeyVerifierOptions {
  /** Where keys are looked up by hash on a cache miss. */
  readonly store: Pick<KeyStore, 'findByHash' | 'replaceHash'>;
  /** The pepper keys are hashed with (≥ 32 bytes; `keyring.subkey('api-key-pepper')`). */
  readonly pepper: Buffer;
  /**
   * The pepper before a master-key rotation. A key not found under `pepper` is looked up under this
   * one and, when found, re-hashed under `pepper` in the store — so keys survive the rotation.
   * @default undefined
   */
  readonly previousPepper?: Buffer | undefined;
  /** Cache sizing and TTLs. @default { maxSize: 10_000, ttlMs: 5000, negativeMaxSize: 10_000, negativeTtlMs: 1000 } */
  readonly cache?: KeyCacheOptions | undefined;
  /** Revocation broadcasts to listen to (drops keys from the cache within the broadcast delay). @default undefined (TTL only) */
  readonly revocation?: RevocationBus | undefined;
  /** Receives each successful use, for batched `lastUsedAt` updates. @default undefined */
  readonly lastUsed?: LastUsedRecorder | undefined;
  /** Only keys of these environments are accepted (e.g. `['live']` in production). @default undefined (any) */
  readonly allowedEnvs?: readonly string[] | undefined;
  /** @default defaultMetricsRegistry() */
  readonly registry?: Registry | undefined;
  /** @default silentLogger */
  readonly logger?: LoggerLike | undefined;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: (() => number) | undefined;
}

export interface ApiKeyVerifier {
  /**
   * Verifies a presented key: format and checksum first (no I/O), then the cache, then the store.
   * Never throws on hostile input; rejects only when the store fails on a cache miss.
   */
  verify(presented: unknown): Promise<ApiKeyVerification>;
  /** Drops a key from this verifier's cache. */
  invalidate(keyId: string): void;
  /** Stops listening to revocation broadcasts. */
  close(): Promise<void>;
}

/** What the cache holds per key: the identity, the instants that end it, and the prebuilt success. */
interface CachedKey {
  readonly id: string;
  readonly success: ApiKeyVerification;
  readonly revokedAtMs: number;
  readonly endsAtMs: number;
}

const failure = (reason: ApiKeyFailureReason): ApiKeyVerification => Object.freeze({ ok: false, reason });
const FAILURES: Readonly<Record<ApiKeyFailureReason, ApiKeyVerification>> = {
  missing: failure('missing'),
  malformed: failure('malformed'),
  invalid: failure('invalid'),
  expired: failure('expired'),
  revoked: failure('revoked'),
};

function toCached(stored: StoredApiKey): CachedKey {
  const key: VerifiedApiKey = Object.freeze({
    id: stored.id,
    name: stored.name,
    tenant: stored.tenant,
    env: stored.env,
    scopes: Object.freeze([...stored.scopes]),
    limits: Object.freeze(stored.limits.map((limit) => Object.freeze({ ...limit }))),
    expiresAt: stored.expiresAt,
    signingAlgorithm: stored.signingAlgorithm,
  });
  const ends = [stored.expiresAt, stored.graceUntil].filter((date): date is Date => date !== null).map((date) => date.getTime());
  return {
    id: stored.id,
    success: Object.freeze({ ok: true, key }),
    revokedAtMs: stored.revokedAt?.getTime() ?? Number.POSITIVE_INFINITY,
    endsAtMs: ends.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...ends),
  };
}

/**
 * Creates the API key verifier: checksum before anything else, a bounded two-tier cache (found
 * keys / unknown keys) in front of the store, revocation broadcasts, and batched last-use writes.
 * Concurrent misses for the same key share one store lookup. Expiry is checked on every cache hit.
 *
 * Metrics: `auth_failures_total{scheme="api_key",reason}`, `api_key_cache_lookups_total{result}`
 * (`hit`, `negative_hit`, `miss`).
 *
 * @example
 * const verifier = createApiKeyVerifier({ store, ...apiKeyPeppers(keyring), revocation, lastUsed });
 * const result = await verifier.verify(req.headers['x-api-key']);
 * if (!result.ok) return reply401(result.reason);
 */
export function createApiKeyVerifier(options: ApiKeyVerifierOptions): ApiKeyVerifier {
  if (typeof options !== 'object' || options === null) throw new TypeError('createApiKeyVerifier: options must be an object');
  const { store, revocation, lastUsed } = options;
  if (typeof store?.findByHash !== 'function') throw new TypeError('createApiKeyVerifier: store must be a KeyStore');
  const pepper = checkPepper(options.pepper, 'createApiKeyVerifier: pepper');
  const previousPepper = options.previousPepper === undefined ? undefined : checkPepper(options.previousPepper, 'createApiKeyVerifier: previousPepper');
  const allowedEnvs = options.allowedEnvs === undefined ? undefined : new Set(options.allowedEnvs);
  if (allowedEnvs !== undefined && (allowedEnvs.size === 0 || ![...allowedEnvs].every(isApiKeyEnv))) {
    throw new TypeError('createApiKeyVerifier: allowedEnvs must be a non-empty array of environments ([a-z0-9]{1,16})');
  }
  const cache = createKeyCache<CachedKey>(options.cache);
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const registry = options.registry ?? defaultMetricsRegistry();
  const failures = counterIn(registry, { name: 'auth_failures_total', help: 'Authentication failures, by scheme and reason.', labelNames: ['scheme', 'reason'] });
  const lookups = counterIn(registry, { name: 'api_key_cache_lookups_total', help: 'API key verifier cache lookups, by result (hit, negative_hit, miss).', labelNames: ['result'] });
  const failureCounters = Object.fromEntries(
    (Object.keys(FAILURES) as ApiKeyFailureReason[]).map((reason) => [reason, failures.labels({ scheme: 'api_key', reason })]),
  ) as Record<ApiKeyFailureReason, { inc(): void }>;
  const hits = lookups.labels({ result: 'hit' });
  const negativeHits = lookups.labels({ result: 'negative_hit' });
  const misses = lookups.labels({ result: 'miss' });
  const inflight = new Map<string, Promise<CachedKey | undefined>>();

  const fail = (reason: ApiKeyFailureReason): ApiKeyVerification => {
    failureCounters[reason].inc();
    return FAILURES[reason];
  };

  const judge = (cached: CachedKey, nowMs: number): ApiKeyVerification => {
    if (cached.revokedAtMs <= nowMs) return fail('revoked');
    if (cached.endsAtMs <= nowMs) return fail('expired');
    lastUsed?.record(cached.id, nowMs);
    return cached.success;
  };

  const findUnder = async (hash: string): Promise<StoredApiKey | undefined> => {
    const stored = await store.findByHash(hash);
    // The store matched on the hash; confirm it in constant time rather than trusting its collation.
    return stored !== undefined && safeEqual(stored.hash, hash) ? stored : undefined;
  };

  const lookup = async (key: string): Promise<CachedKey | undefined> => {
    const hash = hashApiKey(pepper, key);
    const stored = await findUnder(hash);
    if (stored !== undefined) return toCached(stored);
    if (previousPepper === undefined) return undefined;
    const oldHash = hashApiKey(previousPepper, key);
    const old = await findUnder(oldHash);
    if (old === undefined) return undefined;
    try {
      await store.replaceHash(old.id, oldHash, hash);
    } catch (error) {
      logger.warn({ err: error, keyId: old.id }, 'could not re-hash an API key under the current pepper; it still works under the previous one');
    }
    return toCached(old);
  };

  const unsubscribe = revocation?.subscribe((event) => {
    if (event.type === 'resync') cache.clear();
    else for (const id of event.keyIds) cache.invalidate(id);
  });

  return {
    async verify(presented) {
      if (presented === undefined || presented === null || presented === '') return fail('missing');
      // Format and checksum first: garbage never reaches the cache or the store.
      const envEnd = scanApiKey(presented);
      if (typeof envEnd !== 'number') return fail('malformed');
      const key = presented as string;
      if (allowedEnvs !== undefined && !allowedEnvs.has(key.slice(3, envEnd))) return fail('invalid');

      // The cache is keyed by a SHA-256 of the key, never the key itself: a heap dump shows no keys.
      const cacheKey = digest('sha256', key, 'base64');
      const nowMs = now();
      const cached = cache.get(cacheKey, nowMs);
      if (cached !== undefined) {
        if (cached.kind === 'negative') {
          negativeHits.inc();
          return fail('invalid');
        }
        hits.inc();
        return judge(cached.value, nowMs);
      }
      misses.inc();

      let pending = inflight.get(cacheKey);
      if (pending === undefined) {
        const generation = cache.generation();
        pending = lookup(key).then((found) => {
          const storedAtMs = now();
          if (found === undefined) cache.setNegative(cacheKey, storedAtMs, generation);
          else cache.set(cacheKey, found, storedAtMs, generation);
          return found;
        });
        const shared = pending;
        inflight.set(cacheKey, shared);
        void shared.then(
          () => inflight.delete(cacheKey),
          () => inflight.delete(cacheKey),
        );
      }
      const found = await pending;
      return found === undefined ? fail('invalid') : judge(found, now());
    },
    invalidate(keyId) {
      cache.invalidate(keyId);
    },
    async close() {
      unsubscribe?.();
    },
  };
}
