import { Histogram } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { histogramIn } from '../observability/metrics-registry.js';
import { freshRegistry, sample } from '../../test/resilience/support.js';
import { ServiceLatencyHistogram } from './latency-histogram.js';

function setup() {
  const registry = freshRegistry();
  const histogram = new ServiceLatencyHistogram({ name: 'latency_seconds', help: 'test', buckets: [0.01, 0.1, 1], registers: [registry] });
  return { registry, histogram };
}

describe('ServiceLatencyHistogram', () => {
  it('is a prom-client Histogram that histogramIn hands back', () => {
    const { registry, histogram } = setup();
    expect(histogram).toBeInstanceOf(Histogram);
    expect(histogramIn(registry, { name: 'latency_seconds', help: 'test' })).toBe(histogram);
  });

  it('renders cumulative buckets, sum and count per service, as prom-client would', async () => {
    const { registry, histogram } = setup();
    histogram.labels('api').observe(0.005);
    histogram.labels({ service: 'api' }).observe(0.05);
    histogram.observe({ service: 'api' }, 5);
    histogram.series('db').observe(0.2, 3);
    expect(await sample(registry, 'latency_seconds_bucket{le="0.01",service="api"}')).toBe(1);
    expect(await sample(registry, 'latency_seconds_bucket{le="0.1",service="api"}')).toBe(2);
    expect(await sample(registry, 'latency_seconds_bucket{le="1",service="api"}')).toBe(2);
    expect(await sample(registry, 'latency_seconds_bucket{le="+Inf",service="api"}')).toBe(3);
    expect(await sample(registry, 'latency_seconds_sum{service="api"}')).toBeCloseTo(5.055, 9);
    expect(await sample(registry, 'latency_seconds_count{service="db"}')).toBe(3);
    expect(await sample(registry, 'latency_seconds_bucket{le="1",service="db"}')).toBe(3);
    const json = await registry.getMetricsAsJSON();
    expect(json.find((metric) => metric.name === 'latency_seconds')).toMatchObject({ type: 'histogram', values: expect.arrayContaining([{ metricName: 'latency_seconds_count', labels: { service: 'db' }, value: 3 }]) });
  });

  it('zero, reset and remove keep their prom-client meaning', async () => {
    const { registry, histogram } = setup();
    histogram.labels('api').observe(0.5);
    histogram.labels('db').observe(0.5);
    histogram.zero({ service: 'api' });
    expect(await sample(registry, 'latency_seconds_count{service="api"}')).toBe(0);
    histogram.remove('db');
    expect(await registry.metrics()).not.toContain('service="db"');
    histogram.labels('api').observe(0.5);
    registry.resetMetrics();
    expect(await sample(registry, 'latency_seconds_count{service="api"}')).toBe(0);
  });

  it('refuses a non-finite observation', () => {
    const { histogram } = setup();
    expect(() => histogram.observe({ service: 'api' }, Number.NaN)).toThrow(TypeError);
  });
});
