import { describe, expect, it, vi } from 'vitest';
import { calls, fail, freshRegistry, manualClock, recordingLogger, succeed } from '../../test/resilience/support.js';
import { createCircuitBreaker } from './circuit-breaker.js';
import type { CircuitBreakerOptions } from './breaker-options.js';
import { isCircuitOpenError } from './errors.js';
import type { TransitionEvent } from './types.js';

function setup(options: Partial<CircuitBreakerOptions> = {}) {
  const clock = manualClock();
  const logger = recordingLogger();
  const transitions: TransitionEvent[] = [];
  const breaker = createCircuitBreaker({ name: 'upstream', registry: freshRegistry(), logger, now: clock.now, failureThreshold: 2, resetTimeoutMs: 1000, halfOpenRequests: 1, ...options });
  breaker.on('transition', (event) => transitions.push(event));
  const run = (fn: () => Promise<unknown>, count = 1) => calls((f) => breaker.execute(f), fn, count);
  return { breaker, clock, logger, transitions, run };
}

describe('disabled', () => {
  it('lets every call through, never changes state and reads closed', async () => {
    const { breaker, run } = setup({ mode: 'disabled' });
    await run(fail, 10);
    expect(breaker.state).toBe('closed');
    expect(breaker.mode).toBe('disabled');
    await expect(breaker.execute(succeed)).resolves.toBe('ok');
  });

  it('switching an open breaker to disabled closes it', async () => {
    const { breaker, run, transitions } = setup();
    await run(fail, 2);
    breaker.setMode('disabled');
    expect(breaker.state).toBe('closed');
    expect(transitions.at(-1)).toMatchObject({ from: 'open', to: 'closed', reason: 'mode-change' });
  });
});

describe('metrics-only', () => {
  it('runs the state machine and reports transitions but never rejects', async () => {
    const { breaker, run, transitions } = setup({ mode: 'metrics-only' });
    await run(fail, 2);
    expect(breaker.state).toBe('open');
    const fn = vi.fn(succeed);
    await expect(breaker.execute(fn)).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledOnce();
    expect(transitions.map((event) => event.to)).toEqual(['open']);
  });

  it('lets calls beyond the probes through in half-open, without counting them as probes', async () => {
    const { breaker, run, clock } = setup({ mode: 'metrics-only', halfOpenRequests: 1 });
    await run(fail, 2);
    clock.advance(1000);
    const probe = breaker.tryAcquire();
    const extra = breaker.tryAcquire();
    expect(extra).toBeGreaterThan(0);
    breaker.release(extra, 'failure', 1); // a pass-through: moves nothing
    expect(breaker.state).toBe('half-open');
    breaker.release(probe, 'success', 1);
    expect(breaker.state).toBe('closed');
  });

  it('keeps the state when switching between normal and metrics-only, but drops calls in flight', async () => {
    const { breaker, run } = setup();
    await run(fail, 1);
    const inFlight = breaker.tryAcquire();
    breaker.setMode('metrics-only');
    breaker.release(inFlight, 'failure', 1);
    expect(breaker.state).toBe('closed');
    breaker.setMode('normal');
    expect(breaker.state).toBe('closed');
  });
});

describe('forced-open, isolate, forceOpen and reset', () => {
  it('isolate holds the breaker open past resetTimeoutMs until reset', async () => {
    const { breaker, clock, transitions } = setup();
    breaker.isolate();
    expect(breaker.mode).toBe('forced-open');
    clock.advance(60_000);
    expect(breaker.state).toBe('open');
    const error = await breaker.execute(succeed).catch((e: unknown) => e);
    expect(isCircuitOpenError(error)).toBe(true);
    breaker.reset();
    expect(breaker.state).toBe('closed');
    expect(breaker.mode).toBe('normal');
    expect(transitions.map((event) => `${event.from}>${event.to}:${event.reason}`)).toEqual(['closed>open:isolated', 'open>closed:reset']);
  });

  it('a breaker created forced-open rejects from the start', async () => {
    const { breaker } = setup({ mode: 'forced-open' });
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(0);
  });

  it('forceOpen opens now and then recovers as usual', async () => {
    const { breaker, clock, transitions } = setup();
    breaker.forceOpen();
    expect(breaker.state).toBe('open');
    expect(transitions.at(-1)?.reason).toBe('forced-open');
    clock.advance(1000);
    await breaker.execute(succeed);
    expect(breaker.state).toBe('closed');
  });

  it('reset forgets counted failures', async () => {
    const { breaker, run } = setup();
    await run(fail, 1);
    breaker.reset();
    await run(fail, 1);
    expect(breaker.state).toBe('closed');
  });

  it('setMode rejects an unknown mode with a TypeError', () => {
    const { breaker } = setup();
    expect(() => breaker.setMode('sideways' as never)).toThrow(/mode must be one of normal, disabled, metrics-only, forced-open/);
  });
});

describe('events', () => {
  it('emits every transition once, and unsubscribing stops delivery', async () => {
    const { breaker, run, clock } = setup();
    const seen: string[] = [];
    const off = breaker.on('transition', (event) => seen.push(`${event.from}>${event.to}`));
    await run(fail, 2);
    clock.advance(1000);
    expect(breaker.state).toBe('half-open');
    await run(succeed);
    off();
    off();
    breaker.isolate();
    expect(seen).toEqual(['closed>open', 'open>half-open', 'half-open>closed']);
  });

  it('a throwing listener is logged and affects neither the call nor the other listeners', async () => {
    const { breaker, logger, run } = setup();
    const other = vi.fn();
    breaker.on('transition', () => {
      throw new Error('listener bug');
    });
    breaker.on('transition', other);
    await run(fail, 1);
    await expect(breaker.execute(fail)).rejects.toThrow('dependency failed');
    expect(other).toHaveBeenCalledOnce();
    expect(logger.entries.some((entry) => entry.level === 'error' && entry.message === 'circuit breaker transition listener threw')).toBe(true);
  });

  it('logs an opening as a warning with the reason', async () => {
    const { logger, run } = setup();
    await run(fail, 2);
    expect(logger.entries).toContainEqual({ level: 'warn', message: 'circuit breaker opened', object: { breaker: 'upstream', service: 'upstream', from: 'closed', to: 'open', reason: 'consecutive-failures' } });
  });

  it('on rejects unknown events', () => {
    const { breaker } = setup();
    expect(() => breaker.on('open' as 'transition', () => undefined)).toThrow(TypeError);
  });
});

describe('snapshot', () => {
  it('reports what the admin API shows', async () => {
    const { breaker, run } = setup({ service: 'billing', failureThreshold: 5, failureRate: { threshold: 0.5, minimumCalls: 10, window: { kind: 'count', size: 10 } } });
    await run(succeed, 3);
    await run(fail, 1);
    expect(breaker.snapshot()).toEqual({
      name: 'upstream',
      service: 'billing',
      state: 'closed',
      mode: 'normal',
      failures: 1,
      retryAfterMs: 0,
      generation: expect.any(Number),
      window: { calls: 4, failures: 1, slowCalls: 0, failureRate: 0.25, slowCallRate: 0 },
    });
  });
});
