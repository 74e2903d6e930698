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
  /**
   * Cache sizing and TTLs. A found key past `ttlMs` is asked for again, but kept `staleIfErrorMs`
   * longer and served while the store fails.
   * @default { maxSize: 10_000, ttlMs: 5000, negativeMaxSize: 10_000, negativeTtlMs: 1000, staleIfErrorMs: 3_600_000 }
   */
  readonly cache?: KeyCacheOptions | undefined;
  /**
   * How long requests wait for the store when their key's cache entry is past its TTL but kept for
   * stale-if-error. Past it they are served the stale entry while the lookup carries on (its answer
   * refreshes the cache), so a store that hangs delays one key's requests by this much once, not
   * every request by the database's own deadlines. A key with no entry waits for the store.
   * 1…60,000 ms. @default 1000
   */
  readonly refreshTimeoutMs?: number | undefined;
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
   * Never throws on hostile input; rejects only when the store fails on a cache miss and no stale
   * entry of the key is kept (stale-if-error).
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

/** How long a found key is kept past its TTL for stale-if-error, unless `cache.staleIfErrorMs` says otherwise. */
const DEFAULT_STALE_IF_ERROR_MS = 3_600_000;
/** After a failed store lookup, stale entries are served without asking the store for this long. */
const STALE_RETRY_MS = 1000;
const OVERDUE = Symbol('overdue');

/** A store lookup in flight, shared by the requests for one key. */
interface InflightLookup {
  readonly result: Promise<CachedKey | undefined>;
  /** Resolves once the lookup has run `refreshTimeoutMs` without settling (at once for a later waiter). */
  readonly overdue: Promise<typeof OVERDUE>;
  /** The cache generation when it started: after an invalidation its answer may predate a revocation. */
  readonly generation: number;
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
 * Concurrent misses for the same key share one store lookup. Expiry and revocation are checked on
 * every cache hit, stale or not.
 *
 * Stale-if-error: a found key past its TTL is kept `cache.staleIfErrorMs` longer. Its next request
 * asks the store; when the store fails, or has not answered within `refreshTimeoutMs`, the stale
 * entry is served — so a database outage does not become a data-plane outage for keys in use. For
 * 1 s after a failed lookup, stale entries are served without asking at all (a
 * dead database is not asked once per request). Revocation broadcasts still drop entries at once;
 * "no such key" answers are never served stale; a key with no entry still needs the store.
 *
 * Metrics: `auth_failures_total{scheme="api_key",reason}`, `api_key_cache_lookups_total{result}`
 * (`hit`, `negative_hit`, `miss`: answered by the store, `stale`: served past its TTL because the
 * store failed or was slow). A warning is logged when stale serving starts, an info line when the
 * store answers again.
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
  const refreshTimeoutMs = options.refreshTimeoutMs ?? 1000;
  if (!Number.isSafeInteger(refreshTimeoutMs) || refreshTimeoutMs < 1 || refreshTimeoutMs > 60_000) {
    throw new TypeError(`createApiKeyVerifier: refreshTimeoutMs must be an integer from 1 to 60000; got ${String(options.refreshTimeoutMs)}`);
  }
  const cache = createKeyCache<CachedKey>({ ...options.cache, staleIfErrorMs: options.cache?.staleIfErrorMs ?? DEFAULT_STALE_IF_ERROR_MS });
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const registry = options.registry ?? defaultMetricsRegistry();
  const failures = counterIn(registry, { name: 'auth_failures_total', help: 'Authentication failures, by scheme and reason.', labelNames: ['scheme', 'reason'] });
  const lookups = counterIn(registry, { name: 'api_key_cache_lookups_total', help: 'API key verifier cache lookups, by result (hit, negative_hit, miss, stale).', labelNames: ['result'] });
  const failureCounters = Object.fromEntries(
    (Object.keys(FAILURES) as ApiKeyFailureReason[]).map((reason) => [reason, failures.labels({ scheme: 'api_key', reason })]),
  ) as Record<ApiKeyFailureReason, { inc(): void }>;
  const hits = lookups.labels({ result: 'hit' });
  const negativeHits = lookups.labels({ result: 'negative_hit' });
  const misses = lookups.labels({ result: 'miss' });
  const staleServed = lookups.labels({ result: 'stale' });
  const inflight = new Map<string, InflightLookup>();
  /** When a store lookup last failed (`now()` ms), until one succeeds again. */
  let lastFailureAtMs: number | undefined;
  /** Whether stale entries have been served since the store last answered (for the log lines). */
  let servingStale = false;

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

  /** The store lookup of `key`, shared by every request for it while it runs; its answer is cached. */
  const sharedLookup = (key: string, cacheKey: string): InflightLookup => {
    const generation = cache.generation();
    const running = inflight.get(cacheKey);
    // A lookup that started before an invalidation may have read the key before its revocation: a
    // request arriving after the broadcast must not take its answer, so it asks the store itself.
    if (running !== undefined && running.generation === generation) return running;
    let overdueTimer: ReturnType<typeof setTimeout> | undefined;
    const pending: InflightLookup = {
      result: lookup(key).then(
        (found) => {
          const storedAtMs = now();
          if (found === undefined) cache.setNegative(cacheKey, storedAtMs, generation);
          else cache.set(cacheKey, found, storedAtMs, generation);
          lastFailureAtMs = undefined;
          if (servingStale) {
            servingStale = false;
            logger.info({}, 'the API key store answers again; cached keys past their TTL are checked again');
          }
          return found;
        },
        (error: unknown) => {
          lastFailureAtMs = now();
          throw error;
        },
      ),
      overdue: new Promise<typeof OVERDUE>((resolve) => {
        overdueTimer = setTimeout(resolve, refreshTimeoutMs, OVERDUE);
        overdueTimer.unref?.();
      }),
      generation,
    };
    inflight.set(cacheKey, pending);
    const settled = (): void => {
      clearTimeout(overdueTimer);
      // A newer lookup may have taken the slot; leave it there.
      if (inflight.get(cacheKey) === pending) inflight.delete(cacheKey);
    };
    pending.result.then(settled, settled);
    return pending;
  };

  /** Serves `stale` if the cache still holds it (a revocation may have dropped it meanwhile); otherwise `error`. */
  const serveStale = (cacheKey: string, stale: CachedKey, error: unknown): ApiKeyVerification => {
    const nowMs = now();
    const current = cache.get(cacheKey, nowMs);
    if (current?.kind === 'hit') {
      hits.inc();
      return judge(current.value, nowMs);
    }
    if (current?.kind !== 'stale' || current.value !== stale) throw error;
    staleServed.inc();
    if (!servingStale) {
      servingStale = true;
      logger.warn({ err: error, refreshTimeoutMs }, 'the API key store is failing or slow: serving cached keys past their TTL (stale-if-error) until it answers');
    }
    return judge(stale, nowMs);
  };

  /** A key whose entry is past its TTL: the store's answer if it comes in time, else the stale entry. */
  const refreshOrServeStale = async (key: string, cacheKey: string, stale: CachedKey, nowMs: number): Promise<ApiKeyVerification> => {
    if (lastFailureAtMs !== undefined && nowMs - lastFailureAtMs < STALE_RETRY_MS) {
      return serveStale(cacheKey, stale, new Error('the API key store failed moments ago'));
    }
    const pending = sharedLookup(key, cacheKey);
    let found;
    try {
      found = await Promise.race([pending.result, pending.overdue]);
    } catch (error) {
      return serveStale(cacheKey, stale, error);
    }
    if (found === OVERDUE) return serveStale(cacheKey, stale, new Error(`the API key store did not answer within ${refreshTimeoutMs} ms (refreshTimeoutMs)`));
    misses.inc();
    return found === undefined ? fail('invalid') : judge(found, now());
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
      if (cached?.kind === 'negative') {
        negativeHits.inc();
        return fail('invalid');
      }
      if (cached?.kind === 'hit') {
        hits.inc();
        return judge(cached.value, nowMs);
      }
      if (cached?.kind === 'stale') return refreshOrServeStale(key, cacheKey, cached.value, nowMs);
      misses.inc();
      const found = await sharedLookup(key, cacheKey).result;
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
