import { register as globalRegistry } from 'prom-client';
import type { Gauge } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { calls, fail, freshRegistry, manualClock, recordingLogger, sample, succeed } from '../../test/resilience/support.js';
import { createCircuitBreaker } from './circuit-breaker.js';
import type { CircuitBreakerOptions } from './breaker-options.js';
import { BulkheadRejectedError } from './errors.js';

function setup(options: Partial<CircuitBreakerOptions> = {}) {
  const clock = manualClock();
  const registry = freshRegistry();
  const logger = recordingLogger();
  const make = (name: string, extra: Partial<CircuitBreakerOptions> = {}) =>
    createCircuitBreaker({ name, service: 'billing', registry, logger, now: clock.now, failureThreshold: 2, resetTimeoutMs: 1000, halfOpenRequests: 1, ...options, ...extra });
  return { clock, registry, logger, make };
}

describe('circuit breaker metrics', () => {
  it('exposes the state gauge (0 closed, 1 half-open, 2 open), moving lazily at scrape time', async () => {
    const { clock, registry, make } = setup();
    const breaker = make('tenant-7');
    expect(await sample(registry, 'circuit_breaker_state{service="billing"}')).toBe(0);
    await calls((f) => breaker.execute(f), fail, 2);
    expect(await sample(registry, 'circuit_breaker_state{service="billing"}')).toBe(2);
    clock.advance(1000);
    // Nobody has read the state or called: the scrape itself sees the reset timeout has passed.
    expect(await sample(registry, 'circuit_breaker_state{service="billing"}')).toBe(1);
    await breaker.execute(succeed);
    expect(await sample(registry, 'circuit_breaker_state{service="billing"}')).toBe(0);
  });

  it('counts requests by result, failures and transitions', async () => {
    const { registry, make } = setup();
    const breaker = make('tenant-7');
    await calls((f) => breaker.execute(f), succeed, 3);
    await calls((f) => breaker.execute(f), () => Promise.reject(new BulkheadRejectedError('full')), 1);
    await calls((f) => breaker.execute(f), fail, 2);
    await calls((f) => breaker.execute(f), succeed, 4); // rejected: open
    expect(await sample(registry, 'circuit_breaker_requests_total{service="billing",result="success"}')).toBe(3);
    expect(await sample(registry, 'circuit_breaker_requests_total{service="billing",result="ignored"}')).toBe(1);
    expect(await sample(registry, 'circuit_breaker_requests_total{service="billing",result="failure"}')).toBe(2);
    expect(await sample(registry, 'circuit_breaker_requests_total{service="billing",result="rejected"}')).toBe(4);
    expect(await sample(registry, 'circuit_breaker_failures_total{service="billing"}')).toBe(2);
    expect(await sample(registry, 'circuit_breaker_state_transitions_total{service="billing",from="closed",to="open"}')).toBe(1);
    // A second scrape publishes only what is new.
    await breaker.execute(succeed).catch(() => undefined);
    expect(await sample(registry, 'circuit_breaker_requests_total{service="billing",result="rejected"}')).toBe(5);
  });

  it('never puts the breaker name (which may carry a tenant key) in a label', async () => {
    const { registry, make } = setup();
    const breaker = make('tenant-secret-id');
    await calls((f) => breaker.execute(f), fail, 3);
    expect(await registry.metrics()).not.toContain('tenant-secret-id');
  });

  it('records latency in 5 ms … 10 s buckets when every call is timed', async () => {
    const { clock, registry, make } = setup({ latencySampling: false });
    const breaker = make('a');
    const taking = (ms: number) => async () => {
      clock.advance(ms);
      return ms;
    };
    await breaker.execute(taking(3));
    await breaker.execute(taking(40));
    await breaker.execute(taking(20_000));
    expect(await sample(registry, 'circuit_breaker_latency_seconds_bucket{le="0.005",service="billing"}')).toBe(1);
    expect(await sample(registry, 'circuit_breaker_latency_seconds_bucket{le="0.05",service="billing"}')).toBe(2);
    expect(await sample(registry, 'circuit_breaker_latency_seconds_bucket{le="10",service="billing"}')).toBe(2);
    expect(await sample(registry, 'circuit_breaker_latency_seconds_bucket{le="+Inf",service="billing"}')).toBe(3);
    expect(await sample(registry, 'circuit_breaker_latency_seconds_count{service="billing"}')).toBe(3);
    expect(await sample(registry, 'circuit_breaker_latency_seconds_sum{service="billing"}')).toBeCloseTo(20.043, 6);
  });

  it('samples latency at high call rates, weighting each timed call for the calls it stands for', async () => {
    const { registry, make } = setup();
    const breaker = make('a');
    // The clock does not move: calls are "dense", so after the first two the interval doubles up to
    // 64. Timed calls: 1st, 2nd, 4th, 8th, …, 64th, 128th, 192nd, weighing 1, 1, 2, 4, …, 32, 64, 64.
    await calls((f) => breaker.execute(f), succeed, 128);
    expect(await sample(registry, 'circuit_breaker_latency_seconds_count{service="billing"}')).toBe(128);
    expect(await sample(registry, 'circuit_breaker_requests_total{service="billing",result="success"}')).toBe(128);
    await calls((f) => breaker.execute(f), succeed, 63);
    expect(await sample(registry, 'circuit_breaker_latency_seconds_count{service="billing"}')).toBe(128);
    await breaker.execute(succeed);
    expect(await sample(registry, 'circuit_breaker_latency_seconds_count{service="billing"}')).toBe(192);
  });

  it('times every call again after a quiet spell', async () => {
    const { clock, registry, make } = setup();
    const breaker = make('a');
    await calls((f) => breaker.execute(f), succeed, 8); // timed: 1st, 2nd, 4th, 8th; the interval is now 8
    clock.advance(1000);
    await calls((f) => breaker.execute(f), succeed, 8); // the 8th is timed after a long gap: back to 1
    clock.advance(1000);
    await breaker.execute(succeed);
    expect(await sample(registry, 'circuit_breaker_latency_seconds_count{service="billing"}')).toBe(17);
  });

  it('shares one series among the breakers of a service; the gauge shows the worst state', async () => {
    const { registry, make } = setup();
    const first = make('tenant-1');
    make('tenant-2');
    await calls((f) => first.execute(f), fail, 2);
    expect(await sample(registry, 'circuit_breaker_state{service="billing"}')).toBe(2);
    expect((await registry.metrics()).match(/^circuit_breaker_state\{/gm)).toHaveLength(1);
  });

  it('removes the series of a service when its last breaker is disposed', async () => {
    const { registry, make } = setup();
    const first = make('tenant-1');
    const second = make('tenant-2');
    await calls((f) => first.execute(f), fail, 2);
    first.dispose();
    expect(await sample(registry, 'circuit_breaker_state{service="billing"}')).toBe(0);
    second.dispose();
    second.dispose();
    expect(await registry.metrics()).not.toContain('service="billing"');
  });

  it('never registers anything on prom-client’s global registry', async () => {
    const { make } = setup();
    await make('a').execute(succeed);
    expect(globalRegistry.getSingleMetric('circuit_breaker_state')).toBeUndefined();
  });

  it('logs a metrics failure during a transition and still completes the call and the transition', async () => {
    const { registry, logger, make } = setup();
    const breaker = make('a');
    const gauge = registry.getSingleMetric('circuit_breaker_state') as Gauge<'service'>;
    gauge.labels = () => {
      throw new Error('metrics backend broken');
    };
    await breaker.execute(fail).catch(() => undefined);
    await expect(breaker.execute(fail)).rejects.toThrow('dependency failed');
    expect(breaker.state).toBe('open');
    expect(logger.entries.some((entry) => entry.level === 'warn' && entry.message === 'metric update failed')).toBe(true);
  });

  it('counts tryAcquire/release calls and observes their reported durations', async () => {
    const { registry, make } = setup();
    const breaker = make('a');
    breaker.release(breaker.tryAcquire(), 'success', 7);
    breaker.release(breaker.tryAcquire(), 'success', -1); // not measured: no observation
    expect(await sample(registry, 'circuit_breaker_requests_total{service="billing",result="success"}')).toBe(2);
    expect(await sample(registry, 'circuit_breaker_latency_seconds_count{service="billing"}')).toBe(1);
    expect(await sample(registry, 'circuit_breaker_latency_seconds_bucket{le="0.01",service="billing"}')).toBe(1);
  });

  it('uses the name as the service label when no service is given', async () => {
    const clock = manualClock();
    const registry = freshRegistry();
    createCircuitBreaker({ name: 'payments', registry, now: clock.now, failureThreshold: 1, resetTimeoutMs: 1000, halfOpenRequests: 1 });
    expect(await sample(registry, 'circuit_breaker_state{service="payments"}')).toBe(0);
  });
});
