import { register as globalRegistry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { httpMetrics, methodLabel, statusLabel } from './http-metrics.js';
import type { LoggerLike } from './logger-like.js';
import { createMetricsRegistry, defaultMetricsRegistry } from './metrics-registry.js';
import { safeMetric } from './safe-metric.js';

describe('metrics registry', () => {
  it('collects Node default metrics on a registry of its own, never on prom-client global one', async () => {
    const before = (await globalRegistry.getMetricsAsJSON()).length;
    const registry = createMetricsRegistry();
    const names = (await registry.getMetricsAsJSON()).map((metric) => metric.name);
    expect(names).toEqual(expect.arrayContaining(['process_cpu_user_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']));
    expect((await globalRegistry.getMetricsAsJSON()).length).toBe(before);
    expect(globalRegistry.getSingleMetric('nodejs_heap_size_used_bytes')).toBeUndefined();
  });

  it('creates the shared default registry lazily, without default metrics', async () => {
    expect(defaultMetricsRegistry()).toBe(defaultMetricsRegistry());
    expect(defaultMetricsRegistry().getSingleMetric('nodejs_heap_size_used_bytes')).toBeUndefined();
  });
});

describe('httpMetrics', () => {
  it('registers http_requests_total and http_request_duration_seconds once per registry', () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const first = httpMetrics(registry);
    const second = httpMetrics(registry);
    expect(second.requests).toBe(first.requests);
    expect(second.duration).toBe(first.duration);
  });

  it('labels by route pattern, normalised method and status', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const http = httpMetrics(registry);
    http.observe({ method: 'get', route: '/orders/:id', status: 200, durationSeconds: 0.012 });
    http.observe({ method: 'GET', route: '/orders/:id', status: 200, durationSeconds: 0.02 });
    http.observe({ method: 'X'.repeat(10_000), status: 404, durationSeconds: 0.001 });
    const text = await registry.metrics();
    expect(text).toContain('http_requests_total{method="GET",route="/orders/:id",status="200"} 2');
    expect(text).toContain('http_requests_total{method="OTHER",route="unmatched",status="404"} 1');
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.025",method="GET",route="/orders/:id",status="200"} 2');
  });

  it('keeps labels bounded whatever the client sends', () => {
    expect(methodLabel('PROPFIND')).toBe('OTHER');
    expect(methodLabel('delete')).toBe('DELETE');
    expect(statusLabel(42)).toBe('0');
    expect(statusLabel(Number.NaN)).toBe('0');
    expect(statusLabel(503)).toBe('503');
  });

  it('ignores a negative or non-finite duration rather than corrupting the histogram', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const http = httpMetrics(registry);
    http.observe({ method: 'GET', route: '/', status: 200, durationSeconds: Number.NaN });
    http.observe({ method: 'GET', route: '/', status: 200, durationSeconds: -1 });
    const text = await registry.metrics();
    expect(text).toContain('http_requests_total{method="GET",route="/",status="200"} 2');
    expect(text).not.toMatch(/http_request_duration_seconds_(count|sum)\{[^}]*\} (?!0\b)/);
    expect(text).not.toContain('NaN');
  });
});

describe('safeMetric', () => {
  const logger = () => {
    const warn = vi.fn<(object: object, message?: string) => void>();
    const log: LoggerLike = { error: vi.fn(), warn, info: vi.fn(), debug: vi.fn() };
    return Object.assign(log, { warn });
  };

  it('runs the update', () => {
    let ran = false;
    safeMetric(() => {
      ran = true;
    });
    expect(ran).toBe(true);
  });

  it('swallows a failing update and logs it', () => {
    const log = logger();
    expect(() => safeMetric(() => { throw new Error('label mismatch A'); }, log)).not.toThrow();
    expect(log.warn).toHaveBeenCalledWith(expect.objectContaining({ occurrences: 1 }), 'metric update failed');
  });

  it('logs a repeating failure on the 1st, 10th and 100th time only', () => {
    const log = logger();
    for (let index = 0; index < 150; index += 1) safeMetric(() => { throw new Error('label mismatch B'); }, log);
    expect(log.warn.mock.calls.map((call) => (call[0] as { occurrences: number }).occurrences)).toEqual([1, 10, 100]);
  });

  it('survives a logger that throws too', () => {
    const log = { ...logger(), warn: () => { throw new Error('logger down'); } };
    expect(() => safeMetric(() => { throw new Error('label mismatch C'); }, log)).not.toThrow();
  });

  it('really protects a prom-client label error', () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const { requests } = httpMetrics(registry);
    const log = logger();
    safeMetric(() => requests.inc({ nope: 'x' } as never), log);
    expect(log.warn).toHaveBeenCalledTimes(1);
  });
});
