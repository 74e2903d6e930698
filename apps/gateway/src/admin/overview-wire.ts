/**
 * What `GET <admin.prefix>/overview` answers, as JSON. Types only and no imports, so the console
 * (apps/console, a browser build with its own compiler settings) reads the very same declarations.
 */

export interface OverviewSample {
  /** ISO 8601: the end of the interval. */
  readonly at: string;
  /** Requests answered per second over the interval. */
  readonly requestRate: number;
  /** Answers with a 5xx status per second. */
  readonly errorRate: number;
  /** The 99th percentile of the request duration over the interval (interpolated in its histogram bucket, as Prometheus' `histogram_quantile`); `null` without requests. */
  readonly p99Ms: number | null;
  /** Rate-limit rejections plus authentication refusals per second. */
  readonly rejectionRate: number;
  /** Upstream breakers open at the end of the interval. */
  readonly openBreakers: number;
}

/** Totals since the gateway started, at one instant. */
export interface OverviewTotals {
  readonly at: string;
  readonly requests: number;
  readonly errors: number;
  readonly rejections: number;
  readonly openBreakers: number;
  readonly breakers: number;
}

export interface Overview {
  readonly intervalMs: number;
  /** Oldest first. */
  readonly samples: readonly OverviewSample[];
  readonly now: OverviewTotals;
}
