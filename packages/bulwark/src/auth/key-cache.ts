/**
 * The verifier's in-process cache of API key lookups.
 *
 * Two bounded tiers (second-chance LRU): found keys, and "no such key" answers. They are separate so that a flood
 * of well-formed garbage keys (each one a database miss) can fill only the negative tier — it can
 * never evict the keys of real clients, and each garbage key reaches the database at most once per
 * `negativeTtlMs`. Entries expire after their TTL (the bound on how stale a revocation can be when
 * a broadcast is missed); a key's own expiry is checked by the verifier on every hit. With
 * `staleIfErrorMs`, a found key is kept that much longer past its TTL and returned as `stale`: the
 * caller asks the store again, and may use it only when the store cannot answer. "No such key"
 * answers are never kept stale.
 *
 * Hand-written rather than `lru-cache`: ~80 lines over `Map` insertion order, with an injected clock
 * (tests drive it), the id index revocation needs, and a generation counter that stops a lookup
 * started before an invalidation from caching its (now stale) answer.
 */

/** Cache sizing. */
export interface KeyCacheOptions {
  /** Found keys held. @default 10_000 */
  readonly maxSize?: number | undefined;
  /** How long a found key is trusted before the store is asked again (bounds revocation staleness). @default 5000 */
  readonly ttlMs?: number | undefined;
  /** "No such key" answers held. @default 10_000 */
  readonly negativeMaxSize?: number | undefined;
  /** How long a "no such key" answer is kept. @default 1000 */
  readonly negativeTtlMs?: number | undefined;
  /**
   * How long past its TTL a found key is kept, returned as `stale`, for use while the store fails
   * (stale-if-error, as in RFC 5861). Revocation broadcasts still drop it. 0 keeps nothing stale.
   * @default 3_600_000 in the API key verifier; 0 in the signing-key lookup and a bare cache
   */
  readonly staleIfErrorMs?: number | undefined;
}

interface Entry<V> {
  readonly value: V;
  /** Until then a `hit`; after it `stale`, until `expiresAtMs`. */
  readonly freshUntilMs: number;
  readonly expiresAtMs: number;
  /** Set on every hit, cleared when the entry gets its second chance. */
  referenced: boolean;
}

/**
 * A bounded cache with second-chance ("CLOCK") eviction over `Map` insertion order: a hit only sets
 * a flag — no reordering on the hot path — and eviction walks from the oldest entry, moving
 * flagged ones to the young end with the flag cleared and dropping the first unflagged one. Entries
 * used since they last reached the old end survive, like LRU, at a fraction of its cost per hit.
 */
class Lru<V> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(
    private readonly max: number,
    private readonly onEvict?: (key: string, value: V) => void,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, nowMs: number): Entry<V> | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs <= nowMs) {
      this.entries.delete(key);
      this.onEvict?.(key, entry.value);
      return undefined;
    }
    entry.referenced = true;
    return entry;
  }

  set(key: string, value: V, freshUntilMs: number, expiresAtMs: number): void {
    const previous = this.entries.get(key);
    if (previous !== undefined) {
      this.entries.delete(key);
      this.onEvict?.(key, previous.value);
    }
    while (this.entries.size >= this.max) this.evictOne();
    this.entries.set(key, { value, freshUntilMs, expiresAtMs, referenced: false });
  }

  private evictOne(): void {
    // Terminates: each pass clears one flag, so within `size + 1` steps an unflagged entry is found.
    for (const [key, entry] of this.entries) {
      this.entries.delete(key);
      if (entry.referenced) {
        entry.referenced = false;
        this.entries.set(key, entry);
        continue;
      }
      this.onEvict?.(key, entry.value);
      return;
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.onEvict?.(key, entry.value);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** A found key within its TTL, one past it (kept for `staleIfErrorMs`), a cached "no such key", or nothing. */
export type KeyCacheLookup<V> = { readonly kind: 'hit'; readonly value: V } | { readonly kind: 'stale'; readonly value: V } | { readonly kind: 'negative' } | undefined;

export interface KeyCache<V extends { readonly id: string }> {
  /** A found key, a found key past its TTL (`stale`: ask the store), a cached "no such key", or `undefined` (ask the store). */
  get(cacheKey: string, nowMs: number): KeyCacheLookup<V>;
  /** The current generation: read it before a store lookup, pass it to `set`/`setNegative`. */
  generation(): number;
  /** Caches a found key, unless something was invalidated since `generation` was read. */
  set(cacheKey: string, value: V, nowMs: number, generation: number): void;
  /** Caches "no such key" (and drops a stale found entry for it), unless something was invalidated since `generation`. */
  setNegative(cacheKey: string, nowMs: number, generation: number): void;
  /** Drops a key by id (revocation, rotation). */
  invalidate(id: string): void;
  /** Drops everything (after a missed-broadcast window, e.g. a pub/sub reconnect). */
  clear(): void;
  readonly size: { readonly positive: number; readonly negative: number };
}

function checkOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < min || resolved > max) {
    throw new TypeError(`cache.${name} must be an integer from ${min} to ${max}; got ${String(value)}`);
  }
  return resolved;
}

/** Validates cache options once. */
export interface ResolvedKeyCacheOptions {
  readonly maxSize: number;
  readonly ttlMs: number;
  readonly negativeMaxSize: number;
  readonly negativeTtlMs: number;
  readonly staleIfErrorMs: number;
}

export function resolveKeyCacheOptions(options: KeyCacheOptions = {}): ResolvedKeyCacheOptions {
  return {
    maxSize: checkOption('maxSize', options.maxSize, 10_000, 1, 10_000_000),
    ttlMs: checkOption('ttlMs', options.ttlMs, 5000, 1, 3_600_000),
    negativeMaxSize: checkOption('negativeMaxSize', options.negativeMaxSize, 10_000, 1, 10_000_000),
    negativeTtlMs: checkOption('negativeTtlMs', options.negativeTtlMs, 1000, 1, 3_600_000),
    staleIfErrorMs: checkOption('staleIfErrorMs', options.staleIfErrorMs, 0, 0, 86_400_000),
  };
}

export function createKeyCache<V extends { readonly id: string }>(options: KeyCacheOptions = {}): KeyCache<V> {
  const { maxSize, ttlMs, negativeMaxSize, negativeTtlMs, staleIfErrorMs } = resolveKeyCacheOptions(options);
  const cacheKeyById = new Map<string, string>();
  const positive = new Lru<V>(maxSize, (cacheKey, value) => {
    if (cacheKeyById.get(value.id) === cacheKey) cacheKeyById.delete(value.id);
  });
  const negative = new Lru<true>(negativeMaxSize);
  let generation = 0;

  return {
    get(cacheKey, nowMs) {
      const found = positive.get(cacheKey, nowMs);
      if (found !== undefined) return { kind: found.freshUntilMs > nowMs ? 'hit' : 'stale', value: found.value };
      return negative.get(cacheKey, nowMs) === undefined ? undefined : { kind: 'negative' };
    },
    generation: () => generation,
    set(cacheKey, value, nowMs, seen) {
      if (seen !== generation) return;
      negative.delete(cacheKey);
      positive.set(cacheKey, value, nowMs + ttlMs, nowMs + ttlMs + staleIfErrorMs);
      cacheKeyById.set(value.id, cacheKey);
    },
    setNegative(cacheKey, nowMs, seen) {
      if (seen !== generation) return;
      positive.delete(cacheKey);
      negative.set(cacheKey, true, nowMs + negativeTtlMs, nowMs + negativeTtlMs);
    },
    invalidate(id) {
      generation += 1;
      const cacheKey = cacheKeyById.get(id);
      if (cacheKey !== undefined) positive.delete(cacheKey);
    },
    clear() {
      generation += 1;
      positive.clear();
      negative.clear();
      cacheKeyById.clear();
    },
    get size() {
      return { positive: positive.size, negative: negative.size };
    },
  };
}
