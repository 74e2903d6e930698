import type { Registry } from 'prom-client';

/** What a limiter decided since the gateway started, from `ratelimit_decisions_total`. */
export interface LimitDecisions {
  /** Count by result: `ok`, `limited`, `shadow`, `fallback_allowed`, `store_unavailable_rejected`… (only results seen). */
  readonly decisions: Readonly<Record<string, number>>;
  /** Decisions taken by the local fallback while the shared store was unavailable (`fallback_*`). */
  readonly fallback: number;
  /** Requests a shadow-mode limit would have rejected but let through. */
  readonly shadow: number;
}

const NONE: LimitDecisions = Object.freeze({ decisions: Object.freeze({}), fallback: 0, shadow: 0 });

/**
 * The decisions of every limiter by result, read from the registry (the limiters count them there
 * for /metrics already; reading them here keeps one source of truth). Totals since start-up: the
 * console derives rates from two readings.
 */
export async function limitDecisions(registry: Registry): Promise<(name: string) => LimitDecisions> {
  const metric = registry.getSingleMetric('ratelimit_decisions_total');
  if (metric === undefined) return () => NONE;
  const byLimiter = new Map<string, Record<string, number>>();
  for (const value of (await metric.get()).values) {
    const limiter = String(value.labels.limiter);
    const result = String(value.labels.result);
    const counts = byLimiter.get(limiter) ?? {};
    counts[result] = (counts[result] ?? 0) + value.value;
    byLimiter.set(limiter, counts);
  }
  return (name) => {
    const decisions = byLimiter.get(name);
    if (decisions === undefined) return NONE;
    const fallback = Object.entries(decisions).reduce((sum, [result, count]) => (result.startsWith('fallback_') ? sum + count : sum), 0);
    return { decisions, fallback, shadow: decisions.shadow ?? 0 };
  };
}
