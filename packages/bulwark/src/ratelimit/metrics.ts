/**
 * Rate-limit metrics. A decision is taken millions of times a second on the memory store, and a
 * prom-client `inc()` hashes its labels on every call, which would cost more than the decision
 * itself. So the hot path bumps plain numbers on a per-limiter object, and the metric families pull
 * them when scraped (`collect`). Labels are limiter names, bounded key prefixes, store names and
 * fixed result values: never a user key, IP or tenant.
 */
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counterIn, gaugeIn, histogramIn } from '../observability/metrics-registry.js';
import { DECISION_RESULTS, type DecisionResult } from './decision-results.js';
import type { RateLimitDecision } from './types.js';

export { DECISION_RESULTS, type DecisionResult };


/** The `result` label of a decision. */
export function decisionResult(decision: RateLimitDecision): DecisionResult {
  switch (decision.reason) {
    case 'ok':
    case 'limited':
    case 'shadow':
      return decision.reason;
    default:
      return `${decision.reason}_${decision.allowed ? 'allowed' : 'rejected'}`;
  }
}

/** The counters of one limiter, bumped on the hot path and pulled at scrape time. */
export class LimiterCounters {
  requests = 0;
  rejected = 0;
  blockHits = 0;
  /** `ok` decisions, the common case, kept in a field of its own so counting one is a single add. */
  ok = 0;
  /** Every other result. */
  readonly others: Record<Exclude<DecisionResult, 'ok'>, number> = {
    limited: 0,
    shadow: 0,
    fallback_allowed: 0,
    fallback_rejected: 0,
    store_unavailable_allowed: 0,
    store_unavailable_rejected: 0,
    circuit_open_allowed: 0,
    circuit_open_rejected: 0,
  };
  /** What the metric families have already been told. */
  readonly reported: { requests: number; rejected: number; blockHits: number; decisions: Record<DecisionResult, number> } = {
    requests: 0,
    rejected: 0,
    blockHits: 0,
    decisions: { ok: 0, ...this.others },
  };

  constructor(
    readonly limiter: string,
    readonly keyPrefix: string,
  ) {}

  /** Counts one decision (the block-cache hits are counted by the caller). */
  record(decision: RateLimitDecision): void {
    this.requests += 1;
    if (decision.reason === 'ok') {
      this.ok += 1;
      return;
    }
    if (!decision.allowed) this.rejected += 1;
    this.others[decisionResult(decision) as Exclude<DecisionResult, 'ok'>] += 1;
  }

  /** The count of one result. */
  count(result: DecisionResult): number {
    return result === 'ok' ? this.ok : this.others[result];
  }
}

/** A memory store's size, for the entries and capacity gauges. */
export interface MemoryStoreGaugeSource {
  readonly name: string;
  size(): number;
  readonly maxSize: number;
}

/** The rate-limit metric families of one registry. */
export class RateLimitMetrics {
  private readonly limiters = new Set<LimiterCounters>();
  private readonly memoryStores = new Set<MemoryStoreGaugeSource>();
  readonly storeErrors: Counter<'store' | 'kind'>;
  readonly storeLatency: Histogram<'store'>;
  readonly memoryStoreSaturated: Counter<'store'>;
  readonly fallbackTransitions: Counter<'store' | 'node' | 'to'>;
  private readonly requests: Counter<'limiter'>;
  private readonly rejected: Counter<'limiter' | 'key_prefix'>;
  private readonly decisions: Counter<'limiter' | 'result'>;
  private readonly blockHits: Counter<'limiter'>;

  constructor(registry: Registry) {
    const flushAll = (): void => {
      for (const counters of this.limiters) this.flush(counters);
    };
    this.requests = counterIn(registry, { name: 'ratelimit_requests_total', help: 'Rate-limit decisions taken, by limiter.', labelNames: ['limiter'], collect: flushAll });
    this.rejected = counterIn(registry, { name: 'ratelimit_rejected_total', help: 'Requests rejected by a rate limit.', labelNames: ['limiter', 'key_prefix'], collect: flushAll });
    this.decisions = counterIn(registry, { name: 'ratelimit_decisions_total', help: 'Rate-limit decisions by result (ok, limited, shadow, fallback_*, store_unavailable_*, circuit_open_*).', labelNames: ['limiter', 'result'], collect: flushAll });
    this.blockHits = counterIn(registry, { name: 'ratelimit_local_block_hits_total', help: 'Requests rejected by the local block cache without asking the store.', labelNames: ['limiter'], collect: flushAll });
    const stores = this.memoryStores;
    gaugeIn(registry, {
      name: 'ratelimit_memory_store_entries',
      help: 'Keys held by a bounded in-memory rate-limit store.',
      labelNames: ['store'],
      collect(this: Gauge<'store'>) {
        for (const store of stores) this.set({ store: store.name }, store.size());
      },
    });
    gaugeIn(registry, {
      name: 'ratelimit_memory_store_max_size',
      help: 'Capacity (maxSize) of a bounded in-memory rate-limit store.',
      labelNames: ['store'],
      collect(this: Gauge<'store'>) {
        for (const store of stores) this.set({ store: store.name }, store.maxSize);
      },
    });
    this.memoryStoreSaturated = counterIn(registry, { name: 'ratelimit_memory_store_saturated_total', help: 'New keys refused because every entry of a memory store is a currently limited key.', labelNames: ['store'] });
    this.storeErrors = counterIn(registry, { name: 'ratelimit_store_errors_total', help: 'Rate-limit store calls that failed, by kind (timeout, connection, script, error).', labelNames: ['store', 'kind'] });
    this.storeLatency = histogramIn(registry, {
      name: 'ratelimit_store_latency_seconds',
      help: 'Round-trip time of rate-limit store calls (one observation per batch sent to Redis).',
      labelNames: ['store'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    });
    this.fallbackTransitions = counterIn(registry, { name: 'ratelimit_fallback_transitions_total', help: 'Switches of a Redis node between the shared store and the local fallback.', labelNames: ['store', 'node', 'to'] });
  }

  /** Starts counting for a limiter; the returned function stops (after reporting what is left). */
  registerLimiter(counters: LimiterCounters): () => void {
    this.limiters.add(counters);
    return () => {
      this.flush(counters);
      this.limiters.delete(counters);
    };
  }

  registerMemoryStore(source: MemoryStoreGaugeSource): () => void {
    this.memoryStores.add(source);
    return () => this.memoryStores.delete(source);
  }

  private flush(counters: LimiterCounters): void {
    const { reported } = counters;
    const limiter = counters.limiter;
    if (counters.requests > reported.requests) this.requests.inc({ limiter }, counters.requests - reported.requests);
    if (counters.rejected > reported.rejected) this.rejected.inc({ limiter, key_prefix: counters.keyPrefix }, counters.rejected - reported.rejected);
    if (counters.blockHits > reported.blockHits) this.blockHits.inc({ limiter }, counters.blockHits - reported.blockHits);
    for (const result of DECISION_RESULTS) {
      const total = counters.count(result);
      const delta = total - reported.decisions[result];
      if (delta > 0) this.decisions.inc({ limiter, result }, delta);
      reported.decisions[result] = total;
    }
    reported.requests = counters.requests;
    reported.rejected = counters.rejected;
    reported.blockHits = counters.blockHits;
  }
}

const byRegistry = new WeakMap<Registry, RateLimitMetrics>();

/** The rate-limit metric families of `registry`, created on first use. */
export function rateLimitMetrics(registry: Registry): RateLimitMetrics {
  let metrics = byRegistry.get(registry);
  if (metrics === undefined) {
    metrics = new RateLimitMetrics(registry);
    byRegistry.set(registry, metrics);
  }
  return metrics;
}
