import { afterEach, describe, expect, it, vi } from 'vitest';
import { freshRegistry, manualClock } from '../../test/resilience/support.js';
import { createCircuitBreaker } from './circuit-breaker.js';
import type { CircuitBreakerOptions } from './breaker-options.js';

const base = (): CircuitBreakerOptions => ({ name: 'x', registry: freshRegistry(), failureThreshold: 5, resetTimeoutMs: 30_000, halfOpenRequests: 3 });

describe('option validation', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each([
    [{ name: '' }, /name must be a non-empty string/],
    [{ failureThreshold: 0 }, /failureThreshold must be an integer from 1 to 1000 \(got 0\)/],
    [{ failureThreshold: 2.5 }, /failureThreshold must be an integer from 1 to 1000/],
    [{ resetTimeoutMs: 50 }, /resetTimeoutMs must be an integer from 100 to 3600000/],
    [{ halfOpenRequests: 101 }, /halfOpenRequests must be an integer from 1 to 100/],
    [{ halfOpenSuccessRatio: 0 }, /halfOpenSuccessRatio must be a number greater than 0 and at most 1/],
    [{ halfOpenSuccessRatio: Number.NaN }, /halfOpenSuccessRatio/],
    [{ probeTimeoutMs: -1 }, /probeTimeoutMs must be an integer/],
    [{ service: 'x'.repeat(129) }, /service must be a non-empty string of at most 128 characters/],
    [{ failureRate: { threshold: 1.5, minimumCalls: 1, window: { kind: 'count', size: 10 } } }, /failureRate.threshold must be a number greater than 0 and at most 1/],
    [{ failureRate: { threshold: 0.5, minimumCalls: 20, window: { kind: 'count', size: 10 } } }, /failureRate.minimumCalls must be an integer from 1 to 10/],
    [{ failureRate: { threshold: 0.5, minimumCalls: 5, window: { kind: 'time', durationMs: 10 } } }, /failureRate.window.durationMs must be an integer from 1000/],
    [{ failureRate: { threshold: 0.5, minimumCalls: 5, window: { kind: 'hours' } } }, /failureRate.window.kind must be "count" or "time"/],
    [{ slowCall: { durationMs: 0, rateThreshold: 0.5 } }, /slowCall.durationMs must be a number greater than 0/],
    [{ slowCall: { durationMs: 10, rateThreshold: 0.5, minimumCalls: 1000 } }, /slowCall.minimumCalls must be an integer from 1 to 100/],
    [{ mode: 'off' }, /mode must be one of/],
    [{ classify: 'yes' }, /classify must be a function/],
    [{ registry: {} }, /registry must be a prom-client Registry/],
    [{ logger: { warn: () => undefined } }, /logger must have error, warn, info and debug methods/],
    [{ resetTimeout: 1000 }, /unknown option "resetTimeout"/],
  ])('rejects %j with a TypeError naming the option', (override, message) => {
    expect(() => createCircuitBreaker({ ...base(), ...(override as Partial<CircuitBreakerOptions>) })).toThrow(message);
    expect(() => createCircuitBreaker({ ...base(), ...(override as Partial<CircuitBreakerOptions>) })).toThrow(TypeError);
  });

  it('takes missing thresholds from the environment', async () => {
    vi.stubEnv('BULWARK_BREAKER_FAILURE_THRESHOLD', '2');
    vi.stubEnv('BULWARK_BREAKER_RESET_TIMEOUT_MS', '500');
    vi.stubEnv('BULWARK_BREAKER_HALF_OPEN_REQUESTS', '1');
    const clock = manualClock();
    const breaker = createCircuitBreaker({ name: 'env', registry: freshRegistry(), now: clock.now });
    await breaker.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    await breaker.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(breaker.state).toBe('open');
    clock.advance(500);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBeGreaterThan(0);
    expect(breaker.tryAcquire()).toBe(0);
  });

  it('code wins over the environment, and a bad environment stops creation with the variable named', () => {
    vi.stubEnv('BULWARK_BREAKER_FAILURE_THRESHOLD', '12abc');
    expect(() => createCircuitBreaker({ name: 'env', registry: freshRegistry() })).toThrow(/BULWARK_BREAKER_FAILURE_THRESHOLD must be an integer from 1 to 1000 \(got "12abc"\)/);
    expect(() => createCircuitBreaker({ ...base(), name: 'code' })).not.toThrow();
  });

  it('defaults to 5 failures, 30 s and 3 probes without environment', async () => {
    vi.stubEnv('BULWARK_BREAKER_FAILURE_THRESHOLD', undefined as unknown as string);
    vi.stubEnv('BULWARK_BREAKER_RESET_TIMEOUT_MS', undefined as unknown as string);
    vi.stubEnv('BULWARK_BREAKER_HALF_OPEN_REQUESTS', undefined as unknown as string);
    const clock = manualClock();
    const breaker = createCircuitBreaker({ name: 'defaults', registry: freshRegistry(), now: clock.now });
    for (let index = 0; index < 4; index += 1) await breaker.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(breaker.state).toBe('closed');
    await breaker.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(breaker.state).toBe('open');
    clock.advance(29_999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect([breaker.tryAcquire(), breaker.tryAcquire(), breaker.tryAcquire(), breaker.tryAcquire()].map((permit) => permit > 0)).toEqual([true, true, true, false]);
  });
});
