import { isBulkheadRejectedError, isCircuitOpenError } from './errors.js';
import { ROOT_CONTEXT } from './policy.js';
import type { RetryBudget } from './retry-budget.js';
import { sleep } from './sleep.js';
import { MAX_TIMER_MS } from './timeout.js';
import type { Policy, PolicyContext } from './types.js';
import { describe, integerIn, objectOption, optionalFunction, rejectUnknownKeys } from './validate.js';

/** How a retry delay is randomised: `full` draws from [0, d], `equal` from [d/2, d], `none` waits d. */
export type Jitter = 'full' | 'equal' | 'none';

export interface RetryOptions {
  /** Attempts in all, the first included, 1–100. */
  readonly maxAttempts: number;
  /** Delay before the first retry, before jitter, 0–3 600 000 ms; doubles for each further retry. */
  readonly baseDelayMs: number;
  /** Cap of the delay, before jitter, `baseDelayMs`–3 600 000 ms. */
  readonly maxDelayMs: number;
  /** Spreads retries of many callers apart, so that they do not arrive together. */
  readonly jitter: Jitter;
  /** Shared cap on retries; with it, a failing dependency sees at most `ratio` extra load. */
  readonly budget?: RetryBudget;
  /**
   * Whether an error is worth another attempt. Circuit-breaker rejections are never retried, whatever
   * this says, and neither is anything after the caller's signal aborted.
   * @default every error except circuit-breaker and bulkhead rejections
   */
  readonly retryOn?: (error: unknown, attempt: number) => boolean;
  /** Called before each retry's delay (for logs and metrics). */
  readonly onRetry?: (event: { readonly attempt: number; readonly delayMs: number; readonly error: unknown }) => void;
  /** Random numbers in [0, 1) for the jitter. @default Math.random */
  readonly random?: () => number;
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set(['maxAttempts', 'baseDelayMs', 'maxDelayMs', 'jitter', 'budget', 'retryOn', 'onRetry', 'random']);
const JITTERS: ReadonlySet<string> = new Set(['full', 'equal', 'none']);

/**
 * The delay before retry number `retry` (1 for the first retry): `min(maxDelayMs, baseDelayMs ×
 * 2^(retry-1))`, then jittered. `random` returns a number in [0, 1).
 */
export function backoffDelayMs(retry: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'jitter'>, random: () => number = Math.random): number {
  // 2^(retry-1) overflows to Infinity for very large retries; min() brings it back to the cap.
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  if (options.jitter === 'none') return ceiling;
  if (options.jitter === 'equal') return ceiling / 2 + random() * (ceiling / 2);
  return random() * ceiling;
}

const defaultRetryOn = (error: unknown): boolean => !isBulkheadRejectedError(error);

/**
 * Retries a failing call with exponential backoff and jitter, within an optional retry budget.
 * Each attempt receives its number in `context.attempt`. An open circuit is never retried (that
 * would defeat the breaker), and an abort of the caller's signal stops the retries, including
 * during a delay.
 *
 * @example
 * const policy = retry({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 2000, jitter: 'full' });
 * const user = await policy.execute(({ signal }) => api.getUser(id, { signal }));
 */
export function retry(options: RetryOptions): Policy {
  objectOption('options', options);
  rejectUnknownKeys('retry options', options, KNOWN_OPTIONS);
  const maxAttempts = integerIn('maxAttempts', options.maxAttempts, 1, 100);
  const baseDelayMs = integerIn('baseDelayMs', options.baseDelayMs, 0, 3_600_000);
  const maxDelayMs = integerIn('maxDelayMs', options.maxDelayMs, baseDelayMs, Math.min(3_600_000, MAX_TIMER_MS));
  if (!JITTERS.has(options.jitter)) throw new TypeError(`jitter must be "full", "equal" or "none" (got ${describe(options.jitter)})`);
  const jitter = options.jitter;
  const budget = options.budget;
  if (budget !== undefined && (typeof budget !== 'object' || budget === null || typeof budget.tryRetry !== 'function' || typeof budget.recordRequest !== 'function')) {
    throw new TypeError('budget must be a RetryBudget (see createRetryBudget)');
  }
  const retryOn = optionalFunction<(error: unknown, attempt: number) => boolean>('retryOn', options.retryOn) ?? defaultRetryOn;
  const onRetry = optionalFunction<NonNullable<RetryOptions['onRetry']>>('onRetry', options.onRetry);
  const random = optionalFunction<() => number>('random', options.random) ?? Math.random;
  const delays = { baseDelayMs, maxDelayMs, jitter };

  return {
    async execute<T>(fn: (context: PolicyContext) => Promise<T> | T, context: PolicyContext = ROOT_CONTEXT): Promise<T> {
      budget?.recordRequest();
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await fn(attempt === context.attempt ? context : { signal: context.signal, attempt });
        } catch (error) {
          const worthRetrying =
            attempt < maxAttempts && !context.signal.aborted && !isCircuitOpenError(error) && retryOn(error, attempt) && (budget === undefined || budget.tryRetry());
          if (!worthRetrying) throw error;
          const delayMs = backoffDelayMs(attempt, delays, random);
          try {
            onRetry?.({ attempt, delayMs, error });
          } catch {
            // An observer must not change what the policy does.
          }
          if (delayMs > 0) await sleep(delayMs, context.signal);
        }
      }
    },
  };
}
