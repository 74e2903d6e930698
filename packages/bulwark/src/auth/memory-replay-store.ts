import { assertReplayArguments, replayKey, ReplayStoreFullError, type ReplayStore } from './replay-store.js';

export interface MemoryReplayStoreOptions {
  /**
   * The most ids held at once. Size it above the peak number of signed requests per window
   * (requests per second × 2 × windowSeconds). @default 100_000
   */
  readonly maxSize?: number;
  /**
   * What happens when the store is full of live entries: `'reject'` fails the check (the verifier
   * answers 503), which never lets a replay through; `'evict-oldest'` forgets the oldest live entry,
   * which keeps serving but lets that one id be replayed until it expires. @default 'reject'
   */
  readonly whenFull?: 'reject' | 'evict-oldest';
  /** Clock in milliseconds, for tests. @default Date.now */
  readonly now?: () => number;
}

export interface MemoryReplayStore extends ReplayStore {
  /** Entries currently held, expired ones not yet swept included. */
  readonly size: number;
  /** Forgets every entry. */
  clear(): void;
}

const DEFAULT_MAX_SIZE = 100_000;
const MAX_MAX_SIZE = 100_000_000;

/**
 * A bounded in-process replay store: a `Map` from id to expiry time, in insertion order. Expiry is
 * lazy — an expired id is dropped when it is looked up again or when room is needed — so there is no
 * timer to leak. Only for a single instance: with several instances behind a load balancer a replay
 * can reach another instance; use {@link createRedisReplayStore} there.
 *
 * @throws TypeError when `maxSize` is not an integer in 1…100 000 000 or `whenFull` is unknown.
 * @example
 * const replayStore = createMemoryReplayStore({ maxSize: 50_000 });
 * await replayStore.checkAndStore('client-1', nonce, 120_000); // true the first time, then false
 */
export function createMemoryReplayStore(options: MemoryReplayStoreOptions = {}): MemoryReplayStore {
  const maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
  if (!Number.isSafeInteger(maxSize) || maxSize < 1 || maxSize > MAX_MAX_SIZE) {
    throw new TypeError(`maxSize must be an integer between 1 and ${MAX_MAX_SIZE}, got ${String(maxSize)}`);
  }
  const whenFull = options.whenFull ?? 'reject';
  if (whenFull !== 'reject' && whenFull !== 'evict-oldest') {
    throw new TypeError(`whenFull must be 'reject' or 'evict-oldest', got ${String(whenFull)}`);
  }
  const now = options.now ?? Date.now;
  const expiries = new Map<string, number>();
  // While the store is full of live entries, a full sweep cannot free anything before this time.
  let fullSweepUselessUntil = 0;

  function makeRoom(at: number): void {
    // Ids are inserted roughly in expiry order, so expired ones collect at the head: drop those first.
    for (const [key, expiresAt] of expiries) {
      if (expiresAt > at) break;
      expiries.delete(key);
    }
    if (expiries.size < maxSize) return;
    // TTLs differ between callers (a 60 s signature window, a 300 s webhook tolerance), so an expired
    // id may sit behind a live one. Sweep everything, but only when something can have expired since.
    if (at >= fullSweepUselessUntil) {
      let earliest = Number.POSITIVE_INFINITY;
      for (const [key, expiresAt] of expiries) {
        if (expiresAt <= at) expiries.delete(key);
        else if (expiresAt < earliest) earliest = expiresAt;
      }
      fullSweepUselessUntil = earliest;
    }
    if (expiries.size < maxSize) return;
    if (whenFull === 'reject') throw new ReplayStoreFullError(maxSize);
    const oldest = expiries.keys().next();
    if (oldest.done !== true) expiries.delete(oldest.value);
  }

  return {
    get size() {
      return expiries.size;
    },
    clear() {
      expiries.clear();
      fullSweepUselessUntil = 0;
    },
    async checkAndStore(namespace, id, ttlMs) {
      assertReplayArguments(namespace, id, ttlMs);
      const key = replayKey(namespace, id);
      const at = now();
      const expiresAt = expiries.get(key);
      if (expiresAt !== undefined) {
        if (expiresAt > at) return false;
        expiries.delete(key);
      }
      if (expiries.size >= maxSize) makeRoom(at);
      expiries.set(key, at + ttlMs);
      // A short-lived newcomer can expire before the earliest entry the last sweep saw.
      fullSweepUselessUntil = Math.min(fullSweepUselessUntil, at + ttlMs);
      return true;
    },
    async release(namespace, id) {
      assertReplayArguments(namespace, id, 1);
      expiries.delete(replayKey(namespace, id));
    },
  };
}
