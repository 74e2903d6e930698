import type { Counter, Gauge, Registry } from 'prom-client';
import { counterIn, gaugeIn } from '../observability/metrics-registry.js';
import type { LoggerLike } from '../observability/logger-like.js';
import { safeMetric } from '../observability/safe-metric.js';
import { ServiceLatencyHistogram, type LatencySeries } from './latency-histogram.js';
import type { CircuitState } from './types.js';

/** Buckets of `circuit_breaker_latency_seconds`: 5 ms to 10 s. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

/** The value of `circuit_breaker_state` for each state. */
export const STATE_GAUGE_VALUE: Readonly<Record<CircuitState, number>> = Object.freeze({ closed: 0, 'half-open': 1, open: 2 });

/** Indexes of {@link ServiceSeries.counts}, one per `result` label value. */
export const RESULT_SUCCESS = 0;
export const RESULT_FAILURE = 1;
export const RESULT_IGNORED = 2;
export const RESULT_REJECTED = 3;
const RESULT_LABELS = ['success', 'failure', 'ignored', 'rejected'] as const;
/** Slot of `published` that tracks `circuit_breaker_failures_total`. */
const FAILURES_SLOT = 4;

/** A breaker whose state may change lazily: the scrape asks it to look at the clock. */
export interface StateRefresher {
  refreshState(): void;
}

/**
 * Everything the breakers of one `service` label (on one registry) write to. Breakers share it, so
 * 100 000 keyed breakers of one service cost one set of series. The hot path only adds to
 * `counts` and `latency`; the counters are brought up to date when the registry is scraped.
 */
export class ServiceSeries {
  /** Calls by result (see `RESULT_*`). */
  readonly counts = new Float64Array(4);
  /** What the Prometheus counters already hold: requests by result, then failures. */
  readonly published = new Float64Array(5);
  /** Breakers using this series; the series are removed when the last one goes. */
  references = 0;
  /** Breakers of this service that are open or half-open: refreshed on scrape, they also give the gauge. */
  readonly notClosed = new Set<StateRefresher>();
  openCount = 0;
  halfOpenCount = 0;
  removed = false;
  /** Cached `labels()` children of the request and failure counters. */
  readonly increments: ((value?: number) => void)[] = [];

  constructor(
    readonly service: string,
    readonly latency: LatencySeries,
  ) {}

  /** The worst state among the breakers of this service. */
  get gaugeValue(): number {
    if (this.openCount > 0) return STATE_GAUGE_VALUE.open;
    if (this.halfOpenCount > 0) return STATE_GAUGE_VALUE['half-open'];
    return STATE_GAUGE_VALUE.closed;
  }
}

/**
 * The circuit breaker metric families of one registry, and the series of each `service`.
 *
 * - `circuit_breaker_state{service}`: 0 closed, 1 half-open, 2 open; with several breakers per
 *   service (a keyed registry), the most severe state among them. Set on transitions; the scrape
 *   first lets open breakers move to half-open, so the gauge never shows a state that has expired.
 * - `circuit_breaker_requests_total{service,result}`: result is success, failure, ignored or rejected.
 * - `circuit_breaker_failures_total{service}`.
 * - `circuit_breaker_latency_seconds{service}`: 5 ms … 10 s.
 * - `circuit_breaker_state_transitions_total{service,from,to}`.
 */
export class BreakerMetricsHub {
  private readonly series = new Map<string, ServiceSeries>();
  private readonly requests: Counter<'service' | 'result'>;
  private readonly failures: Counter<'service'>;
  private readonly transitions: Counter<'service' | 'from' | 'to'>;
  private readonly state: Gauge<'service'>;
  private readonly latency: ServiceLatencyHistogram;

  constructor(
    registry: Registry,
    private readonly logger: LoggerLike,
  ) {
    const flush = (): void => this.flush();
    this.requests = counterIn(registry, {
      name: 'circuit_breaker_requests_total',
      help: 'Calls through circuit breakers by result: success, failure, ignored (neither), rejected (by the breaker).',
      labelNames: ['service', 'result'],
      collect: flush,
    });
    this.failures = counterIn(registry, { name: 'circuit_breaker_failures_total', help: 'Calls that circuit breakers counted as failures.', labelNames: ['service'], collect: flush });
    this.transitions = counterIn(registry, {
      name: 'circuit_breaker_state_transitions_total',
      help: 'Circuit breaker state changes.',
      labelNames: ['service', 'from', 'to'],
      collect: flush,
    });
    this.state = gaugeIn(registry, {
      name: 'circuit_breaker_state',
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open (the most severe among the breakers of the service).',
      labelNames: ['service'],
      collect: flush,
    });
    this.latency = latencyHistogramIn(registry, flush);
  }

  /** The series of `service`, created (with zeroed series, so dashboards see it at once) on first use. */
  acquire(service: string): ServiceSeries {
    let series = this.series.get(service);
    if (series === undefined) {
      series = new ServiceSeries(service, this.latency.series(service));
      this.series.set(service, series);
      try {
        for (const result of RESULT_LABELS) series.increments.push(this.requests.labels(service, result).inc);
        series.increments.push(this.failures.labels(service).inc);
        for (const increment of series.increments) increment(0);
        this.state.labels(service).set(STATE_GAUGE_VALUE.closed);
      } catch (error) {
        this.logger.warn({ err: error, service }, 'circuit breaker metrics could not be created');
      }
    }
    series.references += 1;
    return series;
  }

  /** A breaker stops using `series` (evicted, deleted, disposed); the last one removes the series. */
  release(series: ServiceSeries, breaker: StateRefresher, state: CircuitState): void {
    if (series.removed) return;
    this.count(series, breaker, state, 'closed');
    series.references -= 1;
    try {
      if (series.references > 0) {
        this.state.labels(series.service).set(series.gaugeValue);
        return;
      }
      series.removed = true;
      this.series.delete(series.service);
      for (const result of RESULT_LABELS) this.requests.remove(series.service, result);
      this.failures.remove(series.service);
      this.state.remove(series.service);
      this.latency.remove(series.service);
      for (const from of STATES) for (const to of STATES) if (from !== to) this.transitions.remove(series.service, from, to);
    } catch (error) {
      this.logger.warn({ err: error, service: series.service }, 'circuit breaker metrics could not be removed');
    }
  }

  /** Records a transition; never throws (a metrics failure must not affect the call that moved the state). */
  stateChanged(series: ServiceSeries, breaker: StateRefresher, from: CircuitState, to: CircuitState, logger: LoggerLike): void {
    this.count(series, breaker, from, to);
    if (series.removed) return;
    // Logged (with repeats thinned out), never thrown.
    safeMetric(() => {
      this.state.labels(series.service).set(series.gaugeValue);
      this.transitions.labels(series.service, from, to).inc();
    }, logger);
  }

  /** Brings the Prometheus families up to date; called by their `collect` hooks at scrape time. */
  flush(): void {
    for (const series of this.series.values()) {
      try {
        // Lazy transitions (open → half-open) happen here, so a scrape sees the state a call would.
        for (const breaker of series.notClosed) breaker.refreshState();
        for (let slot = 0; slot < RESULT_LABELS.length; slot += 1) this.publish(series, slot, slot);
        this.publish(series, RESULT_FAILURE, FAILURES_SLOT);
      } catch (error) {
        this.logger.warn({ err: error, service: series.service }, 'circuit breaker metrics could not be collected');
      }
    }
  }

  private publish(series: ServiceSeries, countSlot: number, publishedSlot: number): void {
    const total = series.counts[countSlot] ?? 0;
    const delta = total - (series.published[publishedSlot] ?? 0);
    if (delta <= 0) return;
    series.increments[publishedSlot]?.(delta);
    series.published[publishedSlot] = total;
  }

  private count(series: ServiceSeries, breaker: StateRefresher, from: CircuitState, to: CircuitState): void {
    if (from === to) return;
    if (from === 'open') series.openCount -= 1;
    else if (from === 'half-open') series.halfOpenCount -= 1;
    if (to === 'open') series.openCount += 1;
    else if (to === 'half-open') series.halfOpenCount += 1;
    if (to === 'closed') series.notClosed.delete(breaker);
    else series.notClosed.add(breaker);
  }
}

const STATES: readonly CircuitState[] = ['closed', 'half-open', 'open'];
const LATENCY_NAME = 'circuit_breaker_latency_seconds';

function latencyHistogramIn(registry: Registry, collect: () => void): ServiceLatencyHistogram {
  const existing = registry.getSingleMetric(LATENCY_NAME);
  if (existing instanceof ServiceLatencyHistogram) return existing;
  if (existing !== undefined) throw new TypeError(`metric "${LATENCY_NAME}" is already registered by something other than the circuit breakers`);
  return new ServiceLatencyHistogram({
    name: LATENCY_NAME,
    help: 'Duration of calls through circuit breakers, in seconds (sampled at high call rates, each sample weighted by the calls it stands for).',
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
    collect,
  });
}

const hubs = new WeakMap<Registry, BreakerMetricsHub>();

/** The hub of `registry`, created on first use (one per registry, shared by every breaker on it). */
export function breakerMetricsHub(registry: Registry, logger: LoggerLike): BreakerMetricsHub {
  let hub = hubs.get(registry);
  if (hub === undefined) {
    hub = new BreakerMetricsHub(registry, logger);
    hubs.set(registry, hub);
  }
  return hub;
}
