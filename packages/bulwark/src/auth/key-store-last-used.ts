import { silentLogger } from '../observability/logger-like.js';
import type { LoggerLike } from '../observability/logger-like.js';
import type { KeyStore, LastUsedEntry } from './key-store.js';

export interface LastUsedRecorderOptions {
  /** Where last-use times are written (one `touch` call per flush). */
  readonly store: Pick<KeyStore, 'touch'>;
  /** How often pending times are written. @default 10_000 */
  readonly flushIntervalMs?: number | undefined;
  /** Distinct keys buffered. Reaching it starts a flush early; while that flush runs, uses of keys not yet buffered are dropped (last use is advisory, memory is not). @default 10_000 */
  readonly maxPending?: number | undefined;
  /** Receives flush failures. @default silentLogger */
  readonly logger?: LoggerLike | undefined;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: (() => number) | undefined;
}

export interface LastUsedRecorder {
  /** Notes that key `id` was used (at `atMs`, default now). O(1), no I/O. */
  record(id: string, atMs?: number): void;
  /** Writes what is pending now. Failed writes are kept for the next flush (within `maxPending`). */
  flush(): Promise<void>;
  /** Stops the timer and writes what is pending. */
  close(): Promise<void>;
  /** Keys waiting to be written. */
  readonly pending: number;
}

/**
 * Buffers "key last used at" so verification never writes to the database per request: uses are
 * merged per key (latest wins) and written in one batched `touch` every `flushIntervalMs` and on
 * `close`. The timer is unref'd: it never keeps the process alive.
 *
 * @example
 * const lastUsed = createLastUsedRecorder({ store, flushIntervalMs: 10_000 });
 * const verifier = createApiKeyVerifier({ store, pepper, lastUsed });
 * process.on('SIGTERM', () => void lastUsed.close());
 */
export function createLastUsedRecorder(options: LastUsedRecorderOptions): LastUsedRecorder {
  const { store } = options;
  if (typeof store?.touch !== 'function') throw new TypeError('createLastUsedRecorder: store must have touch(entries)');
  const flushIntervalMs = options.flushIntervalMs ?? 10_000;
  if (!Number.isSafeInteger(flushIntervalMs) || flushIntervalMs < 100 || flushIntervalMs > 3_600_000) {
    throw new TypeError('createLastUsedRecorder: flushIntervalMs must be an integer from 100 to 3600000');
  }
  const maxPending = options.maxPending ?? 10_000;
  if (!Number.isSafeInteger(maxPending) || maxPending < 1 || maxPending > 10_000_000) {
    throw new TypeError('createLastUsedRecorder: maxPending must be an integer from 1 to 10000000');
  }
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;

  let pending = new Map<string, number>();
  let flushing: Promise<void> | undefined;
  let closed = false;

  const merge = (id: string, atMs: number): boolean => {
    const existing = pending.get(id);
    if (existing !== undefined) {
      if (atMs > existing) pending.set(id, atMs);
      return true;
    }
    if (pending.size >= maxPending) return false;
    pending.set(id, atMs);
    return true;
  };

  const write = async (batch: Map<string, number>): Promise<void> => {
    const entries: LastUsedEntry[] = [...batch].map(([id, atMs]) => ({ id, at: new Date(atMs) }));
    try {
      await store.touch(entries);
    } catch (error) {
      logger.warn({ err: error, keys: entries.length }, 'could not record API key last use; will retry on the next flush');
      for (const [id, atMs] of batch) merge(id, atMs);
    }
  };

  const flush = (): Promise<void> => {
    // The batch is taken now, so the buffer frees at once; writes run one at a time, in order.
    const batch = pending;
    pending = new Map();
    const run = (flushing ?? Promise.resolve()).then(() => (batch.size === 0 ? undefined : write(batch)));
    const settled = run.finally(() => {
      if (flushing === settled) flushing = undefined;
    });
    flushing = settled;
    return settled;
  };

  const timer = setInterval(() => void flush(), flushIntervalMs);
  timer.unref();

  return {
    record(id, atMs) {
      if (closed || typeof id !== 'string') return;
      if (!merge(id, atMs ?? now())) return;
      // Early flush only when none is running: a slow store must not queue up batch after batch.
      if (pending.size >= maxPending && flushing === undefined) void flush();
    },
    flush,
    async close() {
      closed = true;
      clearInterval(timer);
      await flush();
    },
    get pending() {
      return pending.size;
    },
  };
}
