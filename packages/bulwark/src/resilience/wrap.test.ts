import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { freshRegistry, manualClock } from '../../test/resilience/support.js';
import { bulkhead } from './bulkhead.js';
import { createCircuitBreaker } from './circuit-breaker.js';
import { BulkheadRejectedError, CircuitOpenError, TimeoutError } from './errors.js';
import { fallback } from './fallback.js';
import { breakerPolicy, wrap } from './policy.js';
import { retry } from './retry.js';
import { timeout } from './timeout.js';
import type { PolicyContext } from './types.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const breakerFor = (failureThreshold = 2) => createCircuitBreaker({ name: 'upstream', registry: freshRegistry(), now: manualClock().now, failureThreshold, resetTimeoutMs: 1000, halfOpenRequests: 1 });

describe('wrap', () => {
  it('runs policies outermost first and passes the derived context inwards', async () => {
    const seen: PolicyContext[] = [];
    let calls = 0;
    const policy = wrap(retry({ maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0, jitter: 'none' }), timeout(1000));
    const result = await policy.execute((context) => {
      seen.push(context);
      calls += 1;
      if (calls < 2) throw new Error('flaky');
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(seen.map((context) => context.attempt)).toEqual([1, 2]);
    // Each attempt has its own timeout signal.
    expect(seen[0]?.signal).not.toBe(seen[1]?.signal);
  });

  it('counts a timeout inside the breaker as a failure, and retry stops once the breaker opens', async () => {
    const breaker = breakerFor(2);
    const hang = vi.fn(() => new Promise<never>(() => undefined));
    const policy = wrap(retry({ maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 10, jitter: 'none' }), breaker, timeout(100));
    const outcome = policy.execute(hang).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(1000);
    const error = await outcome;
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(hang).toHaveBeenCalledTimes(2); // two timeouts opened the breaker; the third attempt was refused, and not retried
    expect(breaker.state).toBe('open');
  });

  it('lets a bulkhead rejection through the breaker without counting it', async () => {
    const breaker = breakerFor(1);
    const pool = bulkhead({ maxConcurrent: 1, maxQueue: 0 });
    const policy = wrap(breaker, pool);
    void policy.execute(() => new Promise(() => undefined));
    await expect(policy.execute(async () => 1)).rejects.toBeInstanceOf(BulkheadRejectedError);
    expect(breaker.state).toBe('closed');
  });

  it('a fallback outermost answers an open breaker', async () => {
    const breaker = breakerFor(1);
    breaker.isolate();
    const policy = wrap(fallback(() => 'stale but served'), breakerPolicy(breaker), timeout(100));
    await expect(policy.execute(async () => 'fresh')).resolves.toBe('stale but served');
  });

  it('propagates the caller’s signal through every policy', async () => {
    const caller = new AbortController();
    let inner: AbortSignal | undefined;
    const policy = wrap(retry({ maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0, jitter: 'none' }), breakerFor(), timeout(10_000));
    const outcome = policy
      .execute(({ signal }) => {
        inner = signal;
        return new Promise(() => undefined);
      }, { signal: caller.signal, attempt: 1 })
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(0);
    caller.abort(new Error('client left'));
    expect(((await outcome) as Error).message).toBe('client left');
    expect(inner?.aborted).toBe(true);
  });

  it('with no policies, just runs the function', async () => {
    await expect(wrap().execute(() => 7)).resolves.toBe(7);
    await expect(
      wrap().execute(() => {
        throw new TimeoutError(1);
      }),
    ).rejects.toBeInstanceOf(TimeoutError);
  });

  it('rejects something that is not a policy', () => {
    expect(() => wrap(timeout(1), {} as never)).toThrow(/argument 2 is not a policy/);
  });
});
