import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BulkheadRejectedError, CircuitOpenError } from './errors.js';
import { backoffDelayMs, retry, type Jitter } from './retry.js';
import { createRetryBudget } from './retry-budget.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const failing = (times: number, error: unknown = new Error('flaky')) => {
  let calls = 0;
  return vi.fn(async ({ attempt }: { attempt: number }) => {
    calls += 1;
    if (calls <= times) throw error;
    return `ok on attempt ${attempt}`;
  });
};

describe('retry', () => {
  it('retries with exponential delays until a call succeeds, numbering the attempts', async () => {
    const fn = failing(2);
    const result = retry({ maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 10_000, jitter: 'none' }).execute(fn);
    await vi.advanceTimersByTimeAsync(0);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(199);
    expect(fn).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe('ok on attempt 3');
  });

  it('gives up after maxAttempts with the last error', async () => {
    const error = new Error('down');
    const fn = failing(10, error);
    const outcome = retry({ maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10, jitter: 'none' })
      .execute(fn)
      .catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(await outcome).toBe(error);
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('never retries a circuit-breaker rejection, even when retryOn says yes', async () => {
    const fn = failing(10, new CircuitOpenError('redis', 1000));
    const outcome = retry({ maxAttempts: 5, baseDelayMs: 0, maxDelayMs: 0, jitter: 'none', retryOn: () => true }).execute(fn);
    await expect(outcome).rejects.toBeInstanceOf(CircuitOpenError);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('does not retry a bulkhead rejection by default, but retryOn may allow it', async () => {
    const noRetry = failing(1, new BulkheadRejectedError('full'));
    await expect(retry({ maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0, jitter: 'none' }).execute(noRetry)).rejects.toBeInstanceOf(BulkheadRejectedError);
    expect(noRetry).toHaveBeenCalledTimes(1);
    const allowed = failing(1, new BulkheadRejectedError('full'));
    await expect(retry({ maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0, jitter: 'none', retryOn: () => true }).execute(allowed)).resolves.toBe('ok on attempt 2');
  });

  it('asks retryOn with the error and the attempt', async () => {
    const retryOn = vi.fn((error: unknown) => (error as Error).message !== 'fatal');
    const fn = failing(5, new Error('fatal'));
    await expect(retry({ maxAttempts: 5, baseDelayMs: 0, maxDelayMs: 0, jitter: 'none', retryOn }).execute(fn)).rejects.toThrow('fatal');
    expect(retryOn).toHaveBeenCalledWith(expect.any(Error), 1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('stops when the retry budget is spent', async () => {
    const budget = createRetryBudget({ ratio: 0, minRetriesPerSecond: 0.1, ttlMs: 10_000, now: () => 0 }); // one retry in all
    const policy = retry({ maxAttempts: 5, baseDelayMs: 0, maxDelayMs: 0, jitter: 'none', budget });
    const first = failing(10);
    await expect(policy.execute(first)).rejects.toThrow('flaky');
    expect(first).toHaveBeenCalledTimes(2);
    const second = failing(10);
    await expect(policy.execute(second)).rejects.toThrow('flaky');
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('stops at once when the caller aborts during a delay', async () => {
    const caller = new AbortController();
    const fn = failing(10);
    const outcome = retry({ maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 1000, jitter: 'none' })
      .execute(fn, { signal: caller.signal, attempt: 1 })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    const reason = new Error('caller gone');
    caller.abort(reason);
    expect(await outcome).toBe(reason);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reports each retry to onRetry, and a throwing onRetry changes nothing', async () => {
    const events: number[] = [];
    const fn = failing(2);
    const result = retry({
      maxAttempts: 3,
      baseDelayMs: 0,
      maxDelayMs: 0,
      jitter: 'none',
      onRetry: ({ attempt }) => {
        events.push(attempt);
        throw new Error('observer bug');
      },
    }).execute(fn);
    await expect(result).resolves.toBe('ok on attempt 3');
    expect(events).toEqual([1, 2]);
  });

  it.each([
    [{ maxAttempts: 0 }, /maxAttempts must be an integer from 1 to 100/],
    [{ baseDelayMs: -1 }, /baseDelayMs must be an integer from 0/],
    [{ maxDelayMs: 5 }, /maxDelayMs must be an integer from 10/],
    [{ jitter: 'some' }, /jitter must be "full", "equal" or "none"/],
    [{ budget: {} }, /budget must be a RetryBudget/],
    [{ retries: 3 }, /unknown option "retries"/],
  ])('rejects %j', (override, message) => {
    expect(() => retry({ maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100, jitter: 'full', ...(override as object) })).toThrow(message);
  });
});

describe('backoffDelayMs', () => {
  it('stays within the jitter bounds of the capped exponential (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.constantFrom<Jitter>('full', 'equal', 'none'),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retryNumber, baseDelayMs, extra, jitter, random) => {
          const maxDelayMs = baseDelayMs + extra;
          const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (retryNumber - 1));
          const delay = backoffDelayMs(retryNumber, { baseDelayMs, maxDelayMs, jitter }, () => random);
          expect(Number.isFinite(delay)).toBe(true);
          expect(delay).toBeLessThanOrEqual(maxDelayMs);
          if (jitter === 'none') expect(delay).toBe(ceiling);
          if (jitter === 'full') expect(delay >= 0 && delay <= ceiling).toBe(true);
          if (jitter === 'equal') expect(delay >= ceiling / 2 && delay <= ceiling).toBe(true);
        },
      ),
    );
  });

  it('spreads full jitter over the whole range', () => {
    const options = { baseDelayMs: 100, maxDelayMs: 1000, jitter: 'full' as const };
    expect(backoffDelayMs(3, options, () => 0)).toBe(0);
    expect(backoffDelayMs(3, options, () => 0.5)).toBe(200);
    expect(backoffDelayMs(10, options, () => 0.999)).toBeCloseTo(999, 6);
  });
});
