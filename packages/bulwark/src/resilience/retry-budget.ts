import { integerIn, numberIn, objectOption, optionalFunction, rejectUnknownKeys } from './validate.js';

/**
 * A budget that caps retries at a share of the calls made, so that retries cannot multiply the
 * load on a dependency that is already failing (a retry storm). Shared by every retry policy
 * calling the same dependency.
 */
export interface RetryBudget {
  /** Counts a first attempt: it earns `ratio` retries. */
  recordRequest(): void;
  /** Takes one retry when the budget allows it; `false` means do not retry. */
  tryRetry(): boolean;
  /** Retries the budget would allow now. */
  readonly available: number;
}

export interface RetryBudgetOptions {
  /** Retries allowed per first attempt over the last `ttlMs`, 0–10 (0.2 = at most 20 % extra load). */
  readonly ratio: number;
  /** Retries allowed per second whatever the traffic, so that a quiet service can still retry, 0–1 000 000. */
  readonly minRetriesPerSecond: number;
  /** Milliseconds a first attempt keeps counting toward the budget, 1000–600 000. @default 10000 */
  readonly ttlMs?: number;
  /** Monotonic clock in milliseconds. @default performance.now */
  readonly now?: () => number;
}

const BUCKETS = 10;

/**
 * Creates a retry budget in the manner of Finagle's and Linkerd's: over the last `ttlMs`,
 * `retries ≤ minRetriesPerSecond × ttlMs / 1000 + ratio × firstAttempts`. Counts live in ten time
 * buckets (O(1) per call, fixed memory).
 *
 * @example
 * const budget = createRetryBudget({ ratio: 0.2, minRetriesPerSecond: 5 });
 * const policy = retry({ maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 1000, jitter: 'full', budget });
 */
export function createRetryBudget(options: RetryBudgetOptions): RetryBudget {
  objectOption('options', options);
  rejectUnknownKeys('options', options, new Set(['ratio', 'minRetriesPerSecond', 'ttlMs', 'now']));
  const ratio = numberIn('ratio', options.ratio, 0, 10);
  const minRetriesPerSecond = numberIn('minRetriesPerSecond', options.minRetriesPerSecond, 0, 1_000_000);
  const ttlMs = integerIn('ttlMs', options.ttlMs, 1000, 600_000, 10_000);
  const now = optionalFunction<() => number>('now', options.now) ?? (() => performance.now());
  const reserve = (minRetriesPerSecond * ttlMs) / 1000;
  const bucketMs = ttlMs / BUCKETS;
  const requests = new Float64Array(BUCKETS);
  const retries = new Float64Array(BUCKETS);
  let totalRequests = 0;
  let totalRetries = 0;
  let head = 0;
  let headStart = Number.NaN;

  const advance = (): void => {
    const time = now();
    if (Number.isNaN(headStart)) {
      headStart = time;
      return;
    }
    const elapsed = time - headStart;
    if (elapsed < bucketMs) return;
    const steps = Math.floor(elapsed / bucketMs);
    headStart += steps * bucketMs;
    for (let step = 0; step < Math.min(steps, BUCKETS); step += 1) {
      head = (head + 1) % BUCKETS;
      totalRequests -= requests[head] ?? 0;
      totalRetries -= retries[head] ?? 0;
      requests[head] = 0;
      retries[head] = 0;
    }
  };
  const available = (): number => Math.max(0, Math.floor(reserve + ratio * totalRequests - totalRetries));

  return {
    recordRequest(): void {
      advance();
      requests[head] = (requests[head] ?? 0) + 1;
      totalRequests += 1;
    },
    tryRetry(): boolean {
      advance();
      if (available() < 1) return false;
      retries[head] = (retries[head] ?? 0) + 1;
      totalRetries += 1;
      return true;
    },
    get available(): number {
      advance();
      return available();
    },
  };
}
