import { silentLogger } from 'bulwark/observability';
import { breakerDefaultsFromEnv } from 'bulwark/resilience';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBreakerTransitions } from '../../src/admin/breaker-transitions.js';
import { createOverviewSampler, p99Ms } from '../../src/admin/overview-sampler.js';
import { createGatewayMetrics } from '../../src/observability/gateway-metrics.js';
import { createBreakerSet } from '../../src/proxy/breakers.js';
import { breakerSchema } from '../../src/config/schema.js';

const breakerConfig = breakerSchema.parse({ failureThreshold: 2 });

function fixture() {
  const registry = new Registry();
  const metrics = createGatewayMetrics(registry);
  const breakers = createBreakerSet({ registry, logger: silentLogger, defaults: breakerDefaultsFromEnv({}) });
  breakers.forUpstream('api', breakerConfig);
  breakers.forUpstream('billing', breakerConfig);
  /** `count` answers of a proxied route taking `seconds` each, with `status`. */
  const serve = (count: number, status: number, seconds: number, route = 'orders'): void => {
    for (let i = 0; i < count; i += 1) {
      metrics.requests.labels(route, 'GET', String(status)).inc();
      metrics.duration.labels(route, 'GET', String(status)).observe(seconds);
    }
  };
  return { registry, metrics, breakers, serve };
}

describe('the overview sampler', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2030-01-01T00:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('turns counter changes over each interval into rates, p99 and open breakers', async () => {
    const { registry, metrics, breakers, serve } = fixture();
    const sampler = createOverviewSampler({ registry, breakers, logger: silentLogger, intervalMs: 5000 });
    serve(7, 200, 0.003);
    sampler.start();
    await vi.advanceTimersByTimeAsync(0);
    expect((await sampler.overview()).samples, 'the first reading is the baseline').toEqual([]);

    serve(90, 200, 0.003);
    serve(10, 503, 0.2);
    metrics.authFailures.labels('api_key', 'invalid').inc(5);
    serve(20, 200, 0.001, 'admin');
    breakers.get('api')?.forceOpen();
    await vi.advanceTimersByTimeAsync(5000);

    const overview = await sampler.overview();
    expect(overview.intervalMs).toBe(5000);
    expect(overview.samples).toHaveLength(1);
    const [sample] = overview.samples;
    expect(sample).toMatchObject({ at: '2030-01-01T00:00:05.000Z', requestRate: 20, errorRate: 2, rejectionRate: 1, openBreakers: 1 });
    // 100 requests: the 99th is in the (0.1, 0.25] bucket, 9 of its 10 observations in: 0.1 + 0.15 × 0.9.
    expect(sample?.p99Ms).toBe(235);
    expect(overview.now).toMatchObject({ requests: 107, errors: 10, rejections: 5, openBreakers: 1, breakers: 2 });

    await vi.advanceTimersByTimeAsync(5000);
    expect((await sampler.overview()).samples[1]).toMatchObject({ requestRate: 0, errorRate: 0, p99Ms: null, rejectionRate: 0 });
    sampler.stop();
  });

  it('keeps the last 60 samples, and its timer neither holds the process nor survives stop()', async () => {
    const { registry, breakers } = fixture();
    const sampler = createOverviewSampler({ registry, breakers, logger: silentLogger });
    sampler.start();
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(70 * 5000);
    const { samples } = await sampler.overview();
    expect(samples).toHaveLength(60);
    expect(samples[59]?.at).toBe('2030-01-01T00:05:50.000Z');
    expect(samples[0]?.at).toBe('2030-01-01T00:00:55.000Z');
    sampler.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('asks the transition log to follow new breakers before each sample', async () => {
    const { registry, breakers } = fixture();
    const transitions = createBreakerTransitions(breakers);
    const sampler = createOverviewSampler({ registry, breakers, logger: silentLogger, onSample: () => transitions.sync() });
    sampler.start();
    await vi.advanceTimersByTimeAsync(0);
    breakers.forUpstream('late', breakerConfig);
    await vi.advanceTimersByTimeAsync(5000);
    breakers.get('late')?.forceOpen();
    expect(transitions.of('late').map((transition) => `${transition.from}>${transition.to}`)).toEqual(['closed>open']);
    sampler.stop();
    transitions.close();
  });
});

describe('p99Ms', () => {
  const buckets = (entries: readonly (readonly [number, number])[]): Map<number, number> => new Map(entries);

  it('is null without observations, and the highest finite bound when the rank is in +Inf', () => {
    expect(p99Ms(buckets([[0.1, 5], [Infinity, 5]]), buckets([[0.1, 5], [Infinity, 5]]))).toBeNull();
    expect(p99Ms(buckets([[0.1, 0], [1, 0], [Infinity, 10]]), new Map())).toBe(1000);
  });

  it('interpolates inside the bucket holding the rank, on the change between readings only', () => {
    const before = buckets([[0.01, 100], [0.1, 100], [Infinity, 100]]);
    const after = buckets([[0.01, 100], [0.1, 200], [Infinity, 200]]);
    expect(p99Ms(after, before)).toBe(99.1);
  });
});
