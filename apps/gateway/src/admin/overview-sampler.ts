import type { LoggerLike } from 'bulwark/observability';
import type { MetricValue, Registry } from 'prom-client';
import type { BreakerSet } from '../proxy/breakers.js';
import type { Overview, OverviewSample, OverviewTotals } from './overview-wire.js';

export type { Overview, OverviewSample, OverviewTotals };

/**
 * The live figures of the console's overview, sampled from the gateway's own Prometheus registry —
 * no Prometheus or Grafana needed: every `intervalMs` the counters are read and the change since the
 * last reading becomes one sample; the last `keep` samples are kept in a ring. The gateway's own
 * endpoints (admin, console, health, metrics, CSP reports) are left out, so the console polling
 * this endpoint does not show up as traffic.
 */
export interface OverviewSampler {
  /** Takes the first reading and samples every `intervalMs` (the timer does not hold the process open). */
  start(): void;
  stop(): void;
  /** Takes one sample now (what the timer does). */
  sample(): Promise<void>;
  /** The ring and the totals of this instant. */
  overview(): Promise<Overview>;
}

export interface OverviewSamplerOptions {
  readonly registry: Registry;
  readonly breakers: Pick<BreakerSet, 'entries'>;
  /** @default 5000 */
  readonly intervalMs?: number;
  /** Samples kept. @default 60 */
  readonly keep?: number;
  /** Called before each sample (the breaker transition log follows new breakers there). */
  readonly onSample?: () => void;
  readonly logger: LoggerLike;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** Route labels of the gateway's own endpoints (see server/build-server.ts `builtin(label, …)`). */
const OWN_ROUTES = new Set(['admin', 'console', 'health', 'metrics', 'csp-report']);

interface Reading {
  readonly atMs: number;
  readonly requests: number;
  readonly errors: number;
  readonly rejections: number;
  /** Cumulative counts of the duration histogram by upper bound (seconds; `Infinity` for +Inf). */
  readonly buckets: ReadonlyMap<number, number>;
  readonly openBreakers: number;
  readonly breakers: number;
}

export function createOverviewSampler(options: OverviewSamplerOptions): OverviewSampler {
  const { registry, breakers, logger } = options;
  const intervalMs = options.intervalMs ?? 5000;
  const keep = options.keep ?? 60;
  const now = options.now ?? (() => Date.now());
  const samples: OverviewSample[] = [];
  let previous: Reading | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  const read = async (): Promise<Reading> => {
    const atMs = now();
    let requests = 0;
    let errors = 0;
    for (const value of await valuesOf(registry, 'http_requests_total')) {
      if (OWN_ROUTES.has(String(value.labels.route))) continue;
      requests += value.value;
      if (Number(value.labels.status) >= 500) errors += value.value;
    }
    const buckets = new Map<number, number>();
    for (const value of await valuesOf(registry, 'http_request_duration_seconds')) {
      const le = value.labels.le;
      if (le === undefined || OWN_ROUTES.has(String(value.labels.route))) continue;
      const bound = le === '+Inf' ? Infinity : Number(le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + value.value);
    }
    let rejections = 0;
    for (const name of ['ratelimit_rejected_total', 'auth_failures_total']) for (const value of await valuesOf(registry, name)) rejections += value.value;
    let openBreakers = 0;
    let count = 0;
    for (const [, breaker] of breakers.entries()) {
      count += 1;
      if (breaker.state === 'open') openBreakers += 1;
    }
    return { atMs, requests, errors, rejections, buckets, openBreakers, breakers: count };
  };

  const sample = async (): Promise<void> => {
    // A slow registry read must not pile readings up.
    if (running) return;
    running = true;
    try {
      options.onSample?.();
      const reading = await read();
      const last = previous;
      previous = reading;
      if (last === undefined) return;
      const seconds = Math.max(0.001, (reading.atMs - last.atMs) / 1000);
      const rate = (after: number, before: number): number => round(Math.max(0, after - before) / seconds, 3);
      samples.push({
        at: new Date(reading.atMs).toISOString(),
        requestRate: rate(reading.requests, last.requests),
        errorRate: rate(reading.errors, last.errors),
        p99Ms: p99Ms(reading.buckets, last.buckets),
        rejectionRate: rate(reading.rejections, last.rejections),
        openBreakers: reading.openBreakers,
      });
      if (samples.length > keep) samples.splice(0, samples.length - keep);
    } catch (error) {
      logger.warn({ err: error }, 'overview: reading the metrics failed; sample skipped');
    } finally {
      running = false;
    }
  };

  return {
    start() {
      if (timer !== undefined) return;
      void sample();
      timer = setInterval(() => void sample(), intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
    sample,
    async overview() {
      const reading = await read();
      return {
        intervalMs,
        samples: [...samples],
        now: { at: new Date(reading.atMs).toISOString(), requests: reading.requests, errors: reading.errors, rejections: reading.rejections, openBreakers: reading.openBreakers, breakers: reading.breakers },
      };
    },
  };
}

async function valuesOf(registry: Registry, name: string): Promise<readonly MetricValue<string>[]> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return [];
  return (await metric.get()).values;
}

/**
 * The 99th percentile of the observations between two readings of a cumulative histogram: the
 * bucket holding the rank, linearly interpolated inside it (Prometheus' `histogram_quantile`);
 * the highest finite bound when the rank falls in +Inf.
 */
export function p99Ms(after: ReadonlyMap<number, number>, before: ReadonlyMap<number, number>): number | null {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((bound) => Math.max(0, (after.get(bound) ?? 0) - (before.get(bound) ?? 0)));
  const total = counts[counts.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = 0.99 * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (let i = 0; i < bounds.length; i += 1) {
    const bound = bounds[i] ?? Infinity;
    const count = counts[i] ?? 0;
    if (count >= rank) {
      if (bound === Infinity) return round(lowerBound * 1000, 2);
      const share = count === lowerCount ? 1 : (rank - lowerCount) / (count - lowerCount);
      return round((lowerBound + (bound - lowerBound) * share) * 1000, 2);
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return null;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
