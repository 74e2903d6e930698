import { BulkheadRejectedError } from './errors.js';
import { ROOT_CONTEXT } from './policy.js';
import { MAX_TIMER_MS } from './timeout.js';
import type { Policy, PolicyContext } from './types.js';
import { integerIn, objectOption, rejectUnknownKeys } from './validate.js';

export interface BulkheadOptions {
  /** Calls running at once, 1–1 000 000. */
  readonly maxConcurrent: number;
  /** Calls waiting for a slot, 0–1 000 000; beyond it calls are rejected at once. */
  readonly maxQueue: number;
  /** Longest wait in the queue, 1–2 147 483 647 ms. @default no limit (the caller's signal still applies) */
  readonly queueTimeoutMs?: number;
}

/** A bulkhead policy, with its current load. */
export interface Bulkhead extends Policy {
  /** Calls running now. */
  readonly active: number;
  /** Calls waiting for a slot now. */
  readonly queued: number;
}

interface Waiter {
  readonly start: () => void;
  cancelled: boolean;
  dispose: () => void;
}

/**
 * Limits the calls running at once, with a bounded queue, so that a slow dependency cannot take
 * every socket, connection or worker. A call beyond the queue is rejected at once with
 * {@link BulkheadRejectedError} (`BULKHEAD_FULL`), which circuit breakers never count as a failure
 * and `retry` does not retry by default. A queued call leaves the queue when its caller's signal
 * aborts or its `queueTimeoutMs` passes.
 *
 * @example
 * const pool = bulkhead({ maxConcurrent: 20, maxQueue: 100, queueTimeoutMs: 1000 });
 * const rows = await pool.execute(() => db.query(sql));
 */
export function bulkhead(options: BulkheadOptions): Bulkhead {
  objectOption('options', options);
  rejectUnknownKeys('bulkhead options', options, new Set(['maxConcurrent', 'maxQueue', 'queueTimeoutMs']));
  const maxConcurrent = integerIn('maxConcurrent', options.maxConcurrent, 1, 1_000_000);
  const maxQueue = integerIn('maxQueue', options.maxQueue, 0, 1_000_000);
  const queueTimeoutMs = options.queueTimeoutMs === undefined ? undefined : integerIn('queueTimeoutMs', options.queueTimeoutMs, 1, MAX_TIMER_MS);
  let active = 0;
  let queued = 0;
  // A FIFO with a moving head: cancelled waiters stay until they reach the head (O(1) cancel).
  let queue: Waiter[] = [];
  let head = 0;

  const next = (): void => {
    while (active < maxConcurrent && head < queue.length) {
      const waiter = queue[head];
      queue[head] = undefined as unknown as Waiter;
      head += 1;
      if (waiter === undefined || waiter.cancelled) continue;
      queued -= 1;
      waiter.dispose();
      waiter.start();
    }
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  };

  const run = <T>(fn: (context: PolicyContext) => Promise<T> | T, context: PolicyContext): Promise<T> => {
    active += 1;
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(fn(context));
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.finally(() => {
      active -= 1;
      next();
    });
  };

  return {
    get active(): number {
      return active;
    },
    get queued(): number {
      return queued;
    },
    execute<T>(fn: (context: PolicyContext) => Promise<T> | T, context: PolicyContext = ROOT_CONTEXT): Promise<T> {
      if (context.signal.aborted) return Promise.reject(context.signal.reason);
      if (active < maxConcurrent) return run(fn, context);
      if (queued >= maxQueue) return Promise.reject(new BulkheadRejectedError('full'));
      return new Promise<T>((resolve, reject) => {
        const signal = context.signal;
        const leave = (error: unknown): void => {
          if (waiter.cancelled) return;
          waiter.cancelled = true;
          queued -= 1;
          waiter.dispose();
          reject(error);
        };
        const onAbort = (): void => leave(signal.reason);
        const timer = queueTimeoutMs === undefined ? undefined : setTimeout(() => leave(new BulkheadRejectedError('queue-timeout')), queueTimeoutMs);
        const waiter: Waiter = {
          start: () => run(fn, context).then(resolve, reject),
          cancelled: false,
          dispose: () => {
            if (timer !== undefined) clearTimeout(timer);
            signal.removeEventListener('abort', onAbort);
          },
        };
        signal.addEventListener('abort', onAbort, { once: true });
        queue.push(waiter);
        queued += 1;
      });
    },
  };
}
