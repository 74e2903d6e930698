/**
 * Revocation broadcast: when a key is revoked or rotated on one instance, every instance drops it
 * from its verifier cache. {@link createMemoryRevocationBus} serves one process;
 * `createRedisRevocationBus` (revocation-redis.ts) spans instances through Redis pub/sub.
 */

export type RevocationEvent =
  /** These keys changed: drop them from caches. */
  | { readonly type: 'invalidate'; readonly keyIds: readonly string[] }
  /** Broadcasts may have been missed (the subscription reconnected): drop everything. */
  | { readonly type: 'resync' };

export type RevocationListener = (event: RevocationEvent) => void;

export interface RevocationBus {
  /** Tells every instance (this one included, synchronously) that these keys changed. */
  publish(keyIds: readonly string[]): Promise<void>;
  /** Calls `listener` for every event; returns the unsubscribe function. */
  subscribe(listener: RevocationListener): () => void;
  /** Resolves once the bus receives broadcasts (at once for the memory bus). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** Longest key id list in one broadcast, and the longest id: bounds what a hostile message can make us do. */
export const MAX_KEY_IDS_PER_EVENT = 1000;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function checkKeyIds(keyIds: unknown): readonly string[] {
  if (!Array.isArray(keyIds) || keyIds.length > MAX_KEY_IDS_PER_EVENT || !keyIds.every((id) => typeof id === 'string' && KEY_ID.test(id))) {
    throw new TypeError(`publish: keyIds must be an array of at most ${MAX_KEY_IDS_PER_EVENT} key ids`);
  }
  return keyIds as readonly string[];
}

/** A set of listeners where one that throws cannot stop the others. */
export class ListenerSet {
  private readonly listeners = new Set<RevocationListener>();

  constructor(private readonly onListenerError: (error: unknown) => void) {}

  add(listener: RevocationListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('subscribe: listener must be a function');
    // A wrapper per subscription, so the same function subscribed twice is two subscriptions.
    const entry: RevocationListener = (event) => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  emit(event: RevocationEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}

/**
 * A bus within one process: for a single instance, and for tests.
 *
 * @example
 * const revocation = createMemoryRevocationBus();
 * const verifier = createApiKeyVerifier({ store, pepper, revocation });
 * const admin = createApiKeyAdmin({ store, audit, revocation });
 */
export function createMemoryRevocationBus(): RevocationBus {
  const listeners = new ListenerSet(() => undefined);
  return {
    async publish(keyIds) {
      const ids = checkKeyIds(keyIds);
      if (ids.length > 0) listeners.emit({ type: 'invalidate', keyIds: ids });
    },
    subscribe: (listener) => listeners.add(listener),
    ready: Promise.resolve(),
    async close() {
      listeners.clear();
    },
  };
}
