import { describe, expect, it, vi } from 'vitest';
import { calls, fail, freshRegistry, manualClock, succeed } from '../../test/resilience/support.js';
import { createCircuitBreaker } from './circuit-breaker.js';
import type { CircuitBreaker } from './types.js';
import type { CircuitBreakerOptions } from './breaker-options.js';
import { BulkheadRejectedError, CircuitOpenError, isCircuitOpenError } from './errors.js';
import type { TransitionEvent } from './types.js';

function setup(options: Partial<CircuitBreakerOptions> = {}) {
  const clock = manualClock();
  const transitions: TransitionEvent[] = [];
  const breaker = createCircuitBreaker({
    name: 'tenant-42',
    registry: freshRegistry(),
    now: clock.now,
    resetTimeoutMs: 1000,
    halfOpenRequests: 2,
    // The consecutive model only where a test does not configure a failure rate.
    ...(options.failureRate === undefined ? { failureThreshold: 3 } : {}),
    ...options,
  });
  breaker.on('transition', (event) => transitions.push(event));
  const run = (fn: () => Promise<unknown>, count = 1) => calls((f) => breaker.execute(f), fn, count);
  return { breaker, clock, transitions, run };
}

async function openIt(breaker: CircuitBreaker, count: number): Promise<void> {
  await calls((f) => breaker.execute(f), fail, count);
}

describe('closed → open by consecutive failures', () => {
  it('opens on the threshold-th consecutive failure and not before', async () => {
    const { breaker, run, transitions } = setup();
    await run(fail, 2);
    expect(breaker.state).toBe('closed');
    await run(fail);
    expect(breaker.state).toBe('open');
    expect(transitions).toEqual([{ name: 'tenant-42', service: 'tenant-42', from: 'closed', to: 'open', reason: 'consecutive-failures' }]);
  });

  it('a success in between resets the count', async () => {
    const { breaker, run } = setup();
    await run(fail, 2);
    await run(succeed);
    await run(fail, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().failures).toBe(2);
  });

  it('counts a synchronous throw as a failure and still returns a rejected promise', async () => {
    const { breaker } = setup({ failureThreshold: 1 });
    const boom = new Error('sync');
    const result = breaker.execute(() => {
      throw boom;
    });
    await expect(result).rejects.toBe(boom);
    expect(breaker.state).toBe('open');
  });

  it('accepts functions that return plain values', async () => {
    const { breaker } = setup();
    await expect(breaker.execute(() => 42)).resolves.toBe(42);
  });

  it('rejects a non-function without taking a permit or counting a failure', async () => {
    const { breaker } = setup({ failureThreshold: 1 });
    await expect(breaker.execute(undefined as unknown as () => number)).rejects.toThrow(TypeError);
    expect(breaker.state).toBe('closed');
  });
});

describe('closed → open by failure rate', () => {
  it('waits for the minimum number of calls: one failure among few calls never opens it', async () => {
    const { breaker, run } = setup({ failureRate: { threshold: 0.5, minimumCalls: 10, window: { kind: 'count', size: 20 } } });
    await run(fail, 9);
    expect(breaker.state).toBe('closed');
    await run(fail);
    expect(breaker.state).toBe('open');
  });

  it('opens when the rate over a count window reaches the threshold (inclusive)', async () => {
    const { breaker, run, transitions } = setup({ failureRate: { threshold: 0.5, minimumCalls: 4, window: { kind: 'count', size: 4 } } });
    await run(succeed, 2);
    await run(fail);
    expect(breaker.state).toBe('closed');
    await run(fail);
    expect(breaker.state).toBe('open');
    expect(transitions.at(-1)?.reason).toBe('failure-rate');
  });

  it('forgets calls that slide out of a count window', async () => {
    const { breaker, run } = setup({ failureRate: { threshold: 0.5, minimumCalls: 4, window: { kind: 'count', size: 4 } } });
    await run(fail);
    await run(succeed, 4); // the failure has slid out
    await run(fail);
    expect(breaker.snapshot().window).toMatchObject({ calls: 4, failures: 1 });
    expect(breaker.state).toBe('closed');
  });

  it('does not apply the consecutive model unless failureThreshold is given with failureRate', async () => {
    const { breaker, run } = setup({ failureRate: { threshold: 0.9, minimumCalls: 50, window: { kind: 'count', size: 100 } } });
    await run(fail, 20);
    expect(breaker.state).toBe('closed');
  });

  it('applies both models when both are given', async () => {
    const { breaker, run, transitions } = setup({ failureThreshold: 3, failureRate: { threshold: 0.9, minimumCalls: 50, window: { kind: 'count', size: 100 } } });
    await run(fail, 3);
    expect(breaker.state).toBe('open');
    expect(transitions[0]?.reason).toBe('consecutive-failures');
  });

  it('counts over a time window and lets old calls expire', async () => {
    const { breaker, run, clock } = setup({ failureRate: { threshold: 0.5, minimumCalls: 4, window: { kind: 'time', durationMs: 10_000 } } });
    await run(fail, 3);
    clock.advance(10_000); // the three failures are now outside the window
    await run(succeed, 3);
    await run(fail);
    expect(breaker.snapshot().window).toMatchObject({ calls: 4, failures: 1 });
    expect(breaker.state).toBe('closed');
    await run(fail);
    await run(fail);
    expect(breaker.state).toBe('open');
  });
});

describe('slow calls', () => {
  it('opens when the slow-call rate reaches its threshold, even if every call succeeds', async () => {
    const { breaker, clock, transitions } = setup({ slowCall: { durationMs: 100, rateThreshold: 0.5, minimumCalls: 4 } });
    const slow = async () => {
      clock.advance(150);
      return 'late';
    };
    await breaker.execute(succeed);
    await breaker.execute(succeed);
    await breaker.execute(slow);
    expect(breaker.state).toBe('closed');
    await breaker.execute(slow);
    expect(breaker.state).toBe('open');
    expect(transitions.at(-1)?.reason).toBe('slow-call-rate');
  });

  it('treats a call at exactly durationMs as slow and one below it as not', async () => {
    const { breaker, clock } = setup({ slowCall: { durationMs: 100, rateThreshold: 0.5, minimumCalls: 1 } });
    await breaker.execute(async () => clock.advance(99));
    expect(breaker.state).toBe('closed');
    await breaker.execute(async () => clock.advance(100));
    expect(breaker.state).toBe('open');
  });

  it('uses the duration passed to release', () => {
    const { breaker } = setup({ slowCall: { durationMs: 100, rateThreshold: 1, minimumCalls: 2 } });
    breaker.release(breaker.tryAcquire(), 'success', 500);
    expect(breaker.state).toBe('closed');
    breaker.release(breaker.tryAcquire(), 'success', 500);
    expect(breaker.state).toBe('open');
  });

  it('counts a slow probe as a failed probe', async () => {
    const { breaker, clock, transitions } = setup({ slowCall: { durationMs: 100, rateThreshold: 1, minimumCalls: 1 } });
    breaker.forceOpen();
    clock.advance(1000);
    await breaker.execute(async () => clock.advance(200));
    expect(breaker.state).toBe('open');
    expect(transitions.at(-1)?.reason).toBe('probe-failed');
  });
});

describe('open', () => {
  it('rejects without calling the function, with the same stackless CircuitOpenError each time', async () => {
    const { breaker } = setup({ failureThreshold: 1 });
    await openIt(breaker, 1);
    const fn = vi.fn(succeed);
    const first = await breaker.execute(fn).catch((error: unknown) => error);
    const second = await breaker.execute(fn).catch((error: unknown) => error);
    expect(fn).not.toHaveBeenCalled();
    expect(first).toBeInstanceOf(CircuitOpenError);
    expect(second).toBe(first);
    expect(isCircuitOpenError(first)).toBe(true);
    const error = first as CircuitOpenError;
    expect(error.code).toBe('CIRCUIT_OPEN');
    expect(error.status).toBe(503);
    expect(error.breakerName).toBe('tenant-42');
    expect(error.stack ?? '').not.toMatch(/\n\s+at /);
    // The client-facing detail never names the breaker (it may carry a tenant key).
    expect(error.detail).not.toContain('tenant-42');
    expect(error.message).not.toContain('tenant-42');
  });

  it('reports the time left before a probe in retryAfterMs and Retry-After', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, resetTimeoutMs: 5000 });
    await openIt(breaker, 1);
    clock.advance(1200);
    const error = (await breaker.execute(succeed).catch((e: unknown) => e)) as CircuitOpenError;
    expect(error.retryAfterMs).toBe(3800);
    expect(error.headers).toEqual({ 'retry-after': '4' });
    expect(breaker.snapshot().retryAfterMs).toBe(3800);
  });

  it('tryAcquire returns 0 while open', async () => {
    const { breaker } = setup({ failureThreshold: 1 });
    await openIt(breaker, 1);
    expect(breaker.tryAcquire()).toBe(0);
  });

  it('causes no unhandled rejection when a caller drops the rejected promise', async () => {
    const { breaker } = setup({ failureThreshold: 1 });
    await openIt(breaker, 1);
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      void breaker.execute(succeed);
      void breaker.execute(succeed);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', unhandled);
    }
    expect(unhandled).not.toHaveBeenCalled();
  });
});

describe('open → half-open', () => {
  it('moves lazily when the state is read after resetTimeoutMs, with no timer', async () => {
    const { breaker, clock, transitions } = setup({ failureThreshold: 1 });
    await openIt(breaker, 1);
    clock.advance(999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(breaker.state).toBe('half-open');
    expect(transitions.at(-1)).toMatchObject({ from: 'open', to: 'half-open', reason: 'reset-timeout' });
  });

  it('moves on the first call after resetTimeoutMs, which becomes a probe', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1 });
    await openIt(breaker, 1);
    clock.advance(1000);
    const fn = vi.fn(succeed);
    await breaker.execute(fn);
    expect(fn).toHaveBeenCalledOnce();
    expect(breaker.state).toBe('half-open');
    expect(breaker.snapshot().halfOpen).toEqual({ permitsInUse: 1, successes: 1, failures: 0 });
  });
});

describe('half-open → closed and half-open → open', () => {
  it('closes once every probe succeeds (ratio 1)', async () => {
    const { breaker, clock, transitions } = setup({ failureThreshold: 1 });
    await openIt(breaker, 1);
    clock.advance(1000);
    await breaker.execute(succeed);
    await breaker.execute(succeed);
    expect(breaker.state).toBe('closed');
    expect(transitions.at(-1)).toMatchObject({ from: 'half-open', to: 'closed', reason: 'probes-succeeded' });
  });

  it('reopens on the first failed probe (ratio 1) and waits a full resetTimeoutMs again', async () => {
    const { breaker, clock, transitions } = setup({ failureThreshold: 1 });
    await openIt(breaker, 1);
    clock.advance(1000);
    await breaker.execute(succeed);
    await breaker.execute(fail).catch(() => undefined);
    expect(breaker.state).toBe('open');
    expect(transitions.at(-1)).toMatchObject({ from: 'half-open', to: 'open', reason: 'probe-failed' });
    clock.advance(999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(breaker.state).toBe('half-open');
  });

  it('closes when the configured share of probes succeeds', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, halfOpenRequests: 4, halfOpenSuccessRatio: 0.5 });
    await openIt(breaker, 1);
    clock.advance(1000);
    await breaker.execute(fail).catch(() => undefined);
    await breaker.execute(fail).catch(() => undefined);
    expect(breaker.state).toBe('half-open');
    await breaker.execute(succeed);
    await breaker.execute(succeed);
    expect(breaker.state).toBe('closed');
  });

  it('reopens as soon as the share can no longer be reached', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, halfOpenRequests: 4, halfOpenSuccessRatio: 0.75 });
    await openIt(breaker, 1);
    clock.advance(1000);
    await breaker.execute(fail).catch(() => undefined);
    expect(breaker.state).toBe('half-open');
    await breaker.execute(fail).catch(() => undefined);
    expect(breaker.state).toBe('open');
  });

  it('reopens when probes do not report within probeTimeoutMs', async () => {
    const { breaker, clock, transitions } = setup({ failureThreshold: 1, halfOpenRequests: 1, probeTimeoutMs: 5000 });
    await openIt(breaker, 1);
    clock.advance(1000);
    void breaker.execute(() => new Promise(() => undefined)); // a probe that never settles
    expect(breaker.tryAcquire()).toBe(0);
    clock.advance(5000);
    expect(breaker.state).toBe('open');
    expect(transitions.at(-1)?.reason).toBe('probe-timeout');
    clock.advance(1000);
    expect(breaker.state).toBe('half-open');
  });

  it('does not time out a half-open breaker with no probe outstanding, so sparse traffic can still close it', async () => {
    const { breaker, clock, transitions } = setup({ failureThreshold: 1, halfOpenRequests: 2, probeTimeoutMs: 5000 });
    await openIt(breaker, 1);
    clock.advance(1000);
    expect(breaker.state).toBe('half-open'); // moved by a read (a scrape, a health page), not by a call
    clock.advance(6000);
    await breaker.execute(succeed); // the first probe, long after the breaker became half-open
    clock.advance(6000);
    await breaker.execute(succeed); // the second, long after the first reported
    expect(breaker.state).toBe('closed');
    expect(transitions.map((event) => event.reason)).not.toContain('probe-timeout');
  });

  it('starts the closed state with fresh counts', async () => {
    const { breaker, clock } = setup({ failureThreshold: 2 });
    await openIt(breaker, 2);
    clock.advance(1000);
    await breaker.execute(succeed);
    await breaker.execute(succeed);
    await breaker.execute(fail).catch(() => undefined);
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().failures).toBe(1);
  });
});

describe('half-open concurrency', () => {
  it('lets exactly halfOpenRequests probes through and rejects the rest at once, without queueing', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, halfOpenRequests: 3 });
    await openIt(breaker, 1);
    clock.advance(1000);
    const releases: (() => void)[] = [];
    const probe = vi.fn(() => new Promise<string>((resolve) => releases.push(() => resolve('ok'))));
    const results = Array.from({ length: 10 }, () => breaker.execute(probe).then(() => 'done', (error: unknown) => (isCircuitOpenError(error) ? 'rejected' : 'error')));
    // The seven callers beyond the permits are answered before any probe settles.
    const early = await Promise.race([Promise.all(results.slice(3)), new Promise((resolve) => setImmediate(() => resolve('blocked')))]);
    expect(early).toEqual(Array.from({ length: 7 }, () => 'rejected'));
    expect(probe).toHaveBeenCalledTimes(3);
    for (const release of releases) release();
    expect(await Promise.all(results.slice(0, 3))).toEqual(['done', 'done', 'done']);
    expect(breaker.state).toBe('closed');
  });

  it('gives an ignored probe’s permit back for another probe', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, halfOpenRequests: 1 });
    await openIt(breaker, 1);
    clock.advance(1000);
    const permit = breaker.tryAcquire();
    expect(permit).toBeGreaterThan(0);
    expect(breaker.tryAcquire()).toBe(0);
    breaker.release(permit, 'ignored', 1);
    expect(breaker.tryAcquire()).toBeGreaterThan(0);
  });
});

describe('generations: results of calls started in an earlier state move nothing', () => {
  it('ignores a failure that settles after the breaker opened and half-opened again', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, halfOpenRequests: 1 });
    const old = breaker.tryAcquire();
    await openIt(breaker, 1);
    clock.advance(1000);
    const probe = breaker.tryAcquire();
    breaker.release(old, 'failure', 5); // stale: started while closed, before the breaker opened
    expect(breaker.state).toBe('half-open');
    breaker.release(probe, 'success', 5);
    expect(breaker.state).toBe('closed');
  });

  it('ignores a success that settles after the breaker opened', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, halfOpenRequests: 2 });
    let finishSlow: () => void = () => undefined;
    const slow = breaker.execute(() => new Promise<void>((resolve) => (finishSlow = resolve)));
    await openIt(breaker, 1);
    clock.advance(1000);
    await breaker.execute(succeed); // one probe of two
    finishSlow(); // from the closed generation: must not count as the second probe
    await slow;
    expect(breaker.state).toBe('half-open');
  });

  it('ignores late probe results once the half-open episode is decided', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, halfOpenRequests: 2 });
    await openIt(breaker, 1);
    clock.advance(1000);
    const first = breaker.tryAcquire();
    const second = breaker.tryAcquire();
    breaker.release(first, 'failure', 1);
    expect(breaker.state).toBe('open');
    breaker.release(second, 'success', 1);
    expect(breaker.state).toBe('open');
  });
});

describe('outcome classification', () => {
  // Regression: a call its caller gave up on (a client that went away, its request's signal
  // aborted) counted as a failure, so clients disconnecting in a row opened the breaker for everyone.
  it('does not count a call whose caller aborted, with or without latency sampling', async () => {
    for (const latencySampling of [true, false]) {
      const { breaker } = setup({ failureThreshold: 2, latencySampling });
      for (let index = 0; index < 5; index += 1) {
        const caller = new AbortController();
        const call = breaker.execute(({ signal }) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))), { signal: caller.signal, attempt: 1 });
        caller.abort(new Error('client went away'));
        await expect(call).rejects.toThrow('client went away');
      }
      // A synchronous throw after the caller aborted does not count either.
      const gone = new AbortController();
      gone.abort();
      await expect(breaker.execute(() => { throw new Error('late'); }, { signal: gone.signal, attempt: 1 })).rejects.toThrow('late');
      expect(breaker.state).toBe('closed');
      // The dependency's own failures still count, with a context or without.
      const live = new AbortController();
      await breaker.execute(fail, { signal: live.signal, attempt: 1 }).catch(() => undefined);
      await breaker.execute(fail).catch(() => undefined);
      expect(breaker.state).toBe('open');
    }
  });

  it('lets classify ignore errors and fail results', async () => {
    const classify = vi.fn(({ error, result }: { error?: unknown; result?: unknown }) => {
      if (error instanceof Error && error.message === 'not found') return 'ignored' as const;
      if (result === 'degraded') return 'failure' as const;
      return error === undefined ? ('success' as const) : ('failure' as const);
    });
    const { breaker } = setup({ failureThreshold: 2, classify });
    await calls((f) => breaker.execute(f), () => Promise.reject(new Error('not found')), 5);
    expect(breaker.state).toBe('closed');
    await breaker.execute(async () => 'degraded');
    await breaker.execute(async () => 'degraded');
    expect(breaker.state).toBe('open');
    expect(classify.mock.calls[0]?.[0]).toMatchObject({ durationMs: expect.any(Number) });
  });

  it('never counts circuit-open or bulkhead rejections as failures, even if classify says so', async () => {
    const { breaker } = setup({ failureThreshold: 1, classify: () => 'failure' });
    await breaker.execute(() => Promise.reject(new BulkheadRejectedError('full'))).catch(() => undefined);
    await breaker.execute(() => Promise.reject(new CircuitOpenError('inner', 1000))).catch(() => undefined);
    expect(breaker.state).toBe('closed');
  });

  it('falls back to the default when classify throws or answers nonsense', async () => {
    const { breaker } = setup({ failureThreshold: 1, classify: () => 'maybe' as never });
    await breaker.execute(succeed);
    expect(breaker.state).toBe('closed');
    await breaker.execute(fail).catch(() => undefined);
    expect(breaker.state).toBe('open');
    const throwing = setup({ failureThreshold: 1, classify: () => { throw new Error('bug'); } });
    await throwing.breaker.execute(fail).catch(() => undefined);
    expect(throwing.breaker.state).toBe('open');
  });

  it('treats an ignored release as neither success nor failure', () => {
    const { breaker } = setup({ failureThreshold: 2 });
    breaker.release(breaker.tryAcquire(), 'failure', 1);
    breaker.release(breaker.tryAcquire(), 'ignored', 1);
    expect(breaker.snapshot().failures).toBe(1);
    breaker.release(breaker.tryAcquire(), 'failure', 1);
    expect(breaker.state).toBe('open');
  });
});
