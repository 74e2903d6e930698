/**
 * `checkRateLimit(key, limit, windowSeconds, { failClosed })`: one call for code that wants a limit
 * without setting up a limiter. Limiters are created on first use per (limit, window, policy) and
 * kept (bounded); the store is a process-wide bounded memory store unless one is set with
 * {@link setDefaultRateLimitStore} (set a resilient Redis store when running several instances).
 */
import { createMemoryStore } from './memory-store.js';
import { createRateLimiter, type RateLimiter } from './limiter.js';
import type { RateLimitDecision, RateLimitStore } from './types.js';

export interface CheckRateLimitOptions {
  /** Reject when the store cannot answer (else: the local fallback if the store has one, otherwise allow). @default false */
  readonly failClosed?: boolean;
  /** @default the store set with setDefaultRateLimitStore, else a bounded memory store */
  readonly store?: RateLimitStore;
}

/** Most distinct (limit, window, policy, store) combinations kept; beyond it the oldest limiter is dropped. */
const MAX_LIMITERS = 256;
let defaultStore: RateLimitStore | undefined;
const limiters = new Map<string, { readonly store: RateLimitStore; readonly limiter: RateLimiter }>();
let storeIds = new WeakMap<RateLimitStore, number>();
let nextStoreId = 1;

/** Sets the store `checkRateLimit` uses when none is passed (limiters made for the previous one are kept until evicted). */
export function setDefaultRateLimitStore(store: RateLimitStore): void {
  defaultStore = store;
}

/**
 * Counts one request for `key` against `limit` per `windowSeconds` (sliding-window counter).
 *
 * @example
 * const decision = await checkRateLimit(`login:${email}`, 5, 60, { failClosed: true });
 * if (!decision.allowed) throw errors.rateLimited(Math.ceil(decision.retryAfterMs / 1000));
 */
export function checkRateLimit(key: string, limit: number, windowSeconds: number, options: CheckRateLimitOptions = {}): Promise<RateLimitDecision> {
  const store = options.store ?? (defaultStore ??= createMemoryStore({ name: 'check-rate-limit' }));
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > 86_400) throw new TypeError(`windowSeconds must be an integer between 1 and 86400, got ${String(windowSeconds)}`);
  const failClosed = options.failClosed ?? false;
  let storeId = storeIds.get(store);
  if (storeId === undefined) {
    storeId = nextStoreId;
    nextStoreId += 1;
    storeIds.set(store, storeId);
  }
  const id = `${storeId}:${limit}:${windowSeconds}:${failClosed ? 'c' : 'o'}`;
  let entry = limiters.get(id);
  if (entry === undefined) {
    const onStoreFailure = failClosed ? 'closed' : store.supportsLocalFallback ? 'local' : 'open';
    const policy = `${limit}.${windowSeconds}.${failClosed ? 'closed' : 'open'}`;
    // The key prefix names the limit only: every instance sharing a Redis store must count under
    // the same one, whatever order its stores were first used in (the name, a metrics label, stays
    // unique per store in this process).
    const limiter = createRateLimiter({ name: `check.${storeId}.${policy}`, keyPrefix: `check.${policy}`, algorithm: 'sliding-window', limit, windowMs: windowSeconds * 1000, store, onStoreFailure });
    entry = { store, limiter };
    if (limiters.size >= MAX_LIMITERS) {
      for (const [oldest, old] of limiters) {
        old.limiter.dispose();
        limiters.delete(oldest);
        break;
      }
    }
    limiters.set(id, entry);
  }
  return entry.limiter.consume(key);
}

/** Drops every limiter `checkRateLimit` created and forgets the default store (tests, shutdown). */
export function resetCheckRateLimit(): void {
  for (const { limiter } of limiters.values()) limiter.dispose();
  limiters.clear();
  defaultStore = undefined;
  storeIds = new WeakMap();
}
