import type { Registry } from 'prom-client';
import { defaultMetricsRegistry } from '../observability/metrics-registry.js';
import { silentLogger, type LoggerLike } from '../observability/logger-like.js';
import { breakerMetricsHub, type BreakerMetricsHub } from './breaker-metrics.js';
import { BREAKER_ENV, breakerDefaultsFromEnv } from './env.js';
import type { BreakerMode, CallOutcome, OutcomeInput } from './types.js';
import { describe, integerIn, nonEmptyString, numberIn, objectOption, optionalFunction, rejectUnknownKeys } from './validate.js';

/** A sliding window of the last `size` calls, or of the calls of the last `durationMs`. */
export type WindowOptions = { readonly kind: 'count'; readonly size: number } | { readonly kind: 'time'; readonly durationMs: number };

/** Options of {@link createCircuitBreaker}. Every number is validated once, at creation. */
export interface CircuitBreakerOptions {
  /** Unique id of the breaker (may include a tenant or node key). Never a metric label. */
  readonly name: string;
  /**
   * The `service` metric label: bounded (an upstream or a dependency, never a tenant or user id).
   * Breakers sharing it share their series. @default name
   */
  readonly service?: string;
  /**
   * Consecutive failures that open the breaker, 1–1000. When `failureRate` is set, this model
   * applies only if `failureThreshold` is set too. @default BULWARK_BREAKER_FAILURE_THRESHOLD or 5
   */
  readonly failureThreshold?: number;
  /**
   * Opens when the failure rate over the window reaches `threshold` (0–1, inclusive), once the window
   * holds at least `minimumCalls` calls (so one failure among few calls never opens it).
   */
  readonly failureRate?: { readonly threshold: number; readonly minimumCalls: number; readonly window: WindowOptions };
  /**
   * Calls that take `durationMs` or longer are slow; opens when the slow-call rate reaches
   * `rateThreshold` once the window holds `minimumCalls` calls. Uses the `failureRate` window, or
   * the last 100 calls. @default minimumCalls: failureRate.minimumCalls or 10
   */
  readonly slowCall?: { readonly durationMs: number; readonly rateThreshold: number; readonly minimumCalls?: number };
  /** Milliseconds an open breaker waits before letting probes through, 100–3 600 000. @default BULWARK_BREAKER_RESET_TIMEOUT_MS or 30000 */
  readonly resetTimeoutMs?: number;
  /** Probes a half-open breaker lets through (the rest are rejected at once), 1–100. @default BULWARK_BREAKER_HALF_OPEN_REQUESTS or 3 */
  readonly halfOpenRequests?: number;
  /** Share of the probes that must succeed to close, in (0, 1]. @default 1 */
  readonly halfOpenSuccessRatio?: number;
  /**
   * Milliseconds a half-open breaker waits for its probes to report before it gives up on them and
   * opens again (a probe that never settles would otherwise hold the breaker half-open for ever),
   * 1–86 400 000. @default 60000
   */
  readonly probeTimeoutMs?: number;
  /**
   * Classifies each call. The breaker's own rejections and bulkhead rejections are always `ignored`,
   * whatever this returns. @default errors are failures, results are successes
   */
  readonly classify?: (outcome: OutcomeInput) => CallOutcome;
  /** @default 'normal' */
  readonly mode?: BreakerMode;
  /**
   * Measure the latency of a sample of calls rather than every call when nothing else needs every
   * duration (`slowCall`, `classify` and time windows do). At high call rates one call in up to 64
   * is timed and weighted for the calls it stands for: two clock reads cost more than the rest of
   * the success path. @default true
   */
  readonly latencySampling?: boolean;
  /** Prometheus registry of the metrics. @default defaultMetricsRegistry() */
  readonly registry?: Registry;
  /** Receives transitions and metric failures. @default silentLogger */
  readonly logger?: LoggerLike;
  /** Monotonic clock in milliseconds. @default performance.now */
  readonly now?: () => number;
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
  'name',
  'service',
  'failureThreshold',
  'failureRate',
  'slowCall',
  'resetTimeoutMs',
  'halfOpenRequests',
  'halfOpenSuccessRatio',
  'probeTimeoutMs',
  'classify',
  'mode',
  'latencySampling',
  'registry',
  'logger',
  'now',
]);

const MODES: ReadonlySet<string> = new Set(['normal', 'disabled', 'metrics-only', 'forced-open']);

/** Calls in the window of a slow-call model that has no failure-rate window. */
export const DEFAULT_SLOW_CALL_WINDOW_SIZE = 100;
const MAX_COUNT_WINDOW = 100_000;

/** Options checked and resolved once; shared by every breaker a registry creates with the same options. */
export interface BreakerConfig {
  readonly service: string | undefined;
  /** 0 when the consecutive-failures model is off. */
  readonly failureThreshold: number;
  readonly failureRate: { readonly threshold: number; readonly minimumCalls: number } | undefined;
  readonly slowCall: { readonly durationMs: number; readonly rateThreshold: number; readonly minimumCalls: number } | undefined;
  readonly window: WindowOptions | undefined;
  readonly resetTimeoutMs: number;
  readonly halfOpenRequests: number;
  /** Successful probes that close the breaker. */
  readonly probesToClose: number;
  readonly probeTimeoutMs: number;
  readonly classify: ((outcome: OutcomeInput) => CallOutcome) | undefined;
  readonly mode: BreakerMode;
  /** Every call is timed (slow calls, a classifier or a time window need it, or sampling is off). */
  readonly measureEveryCall: boolean;
  readonly hub: BreakerMetricsHub;
  readonly logger: LoggerLike;
  readonly now: () => number;
}

const defaultNow = (): number => performance.now();

function windowOf(option: string, value: unknown): WindowOptions {
  const window = objectOption(option, value) as { kind?: unknown; size?: unknown; durationMs?: unknown };
  if (window.kind === 'count') {
    rejectUnknownKeys(option, window, new Set(['kind', 'size']));
    return { kind: 'count', size: integerIn(`${option}.size`, window.size, 1, MAX_COUNT_WINDOW) };
  }
  if (window.kind === 'time') {
    rejectUnknownKeys(option, window, new Set(['kind', 'durationMs']));
    return { kind: 'time', durationMs: integerIn(`${option}.durationMs`, window.durationMs, 1000, 3_600_000) };
  }
  throw new TypeError(`${option}.kind must be "count" or "time" (got ${describe(window.kind)})`);
}

function minimumCallsIn(option: string, value: unknown, window: WindowOptions): number {
  const max = window.kind === 'count' ? window.size : 1_000_000;
  return integerIn(option, value, 1, max);
}

function isRegistry(value: unknown): value is Registry {
  return typeof value === 'object' && value !== null && typeof (value as Registry).getSingleMetric === 'function' && typeof (value as Registry).registerMetric === 'function';
}

function isLogger(value: unknown): value is LoggerLike {
  if (typeof value !== 'object' || value === null) return false;
  const logger = value as Record<string, unknown>;
  return ['error', 'warn', 'info', 'debug'].every((level) => typeof logger[level] === 'function');
}

/**
 * Checks `options` (all but `name`) and resolves the defaults, including the environment's (read
 * only when an option is missing). Throws a `TypeError` naming the option and its range.
 */
export function resolveBreakerConfig(options: Omit<CircuitBreakerOptions, 'name'>, context = 'options'): BreakerConfig {
  objectOption(context, options);
  rejectUnknownKeys(context, options, KNOWN_OPTIONS);
  const service = options.service === undefined ? undefined : nonEmptyString(`${context}.service`, options.service, 128);
  const needsEnv = options.failureThreshold === undefined || options.resetTimeoutMs === undefined || options.halfOpenRequests === undefined;
  const env = needsEnv ? breakerDefaultsFromEnv() : undefined;

  let window: WindowOptions | undefined;
  let failureRate: BreakerConfig['failureRate'];
  if (options.failureRate !== undefined) {
    const rate = objectOption(`${context}.failureRate`, options.failureRate) as Record<string, unknown>;
    rejectUnknownKeys(`${context}.failureRate`, rate, new Set(['threshold', 'minimumCalls', 'window']));
    window = windowOf(`${context}.failureRate.window`, rate.window);
    failureRate = {
      threshold: numberIn(`${context}.failureRate.threshold`, rate.threshold, 0, 1, { exclusiveMin: true }),
      minimumCalls: minimumCallsIn(`${context}.failureRate.minimumCalls`, rate.minimumCalls, window),
    };
  }

  let slowCall: BreakerConfig['slowCall'];
  if (options.slowCall !== undefined) {
    const slow = objectOption(`${context}.slowCall`, options.slowCall) as Record<string, unknown>;
    rejectUnknownKeys(`${context}.slowCall`, slow, new Set(['durationMs', 'rateThreshold', 'minimumCalls']));
    window ??= { kind: 'count', size: DEFAULT_SLOW_CALL_WINDOW_SIZE };
    slowCall = {
      durationMs: numberIn(`${context}.slowCall.durationMs`, slow.durationMs, 0, 3_600_000, { exclusiveMin: true }),
      rateThreshold: numberIn(`${context}.slowCall.rateThreshold`, slow.rateThreshold, 0, 1, { exclusiveMin: true }),
      minimumCalls: slow.minimumCalls === undefined ? Math.min(failureRate?.minimumCalls ?? 10, window.kind === 'count' ? window.size : 10) : minimumCallsIn(`${context}.slowCall.minimumCalls`, slow.minimumCalls, window),
    };
  }

  // With a failure-rate model, consecutive failures open the breaker only when asked for explicitly:
  // otherwise an env default of 5 would defeat `minimumCalls`.
  const consecutiveOn = failureRate === undefined || options.failureThreshold !== undefined;
  const threshold = BREAKER_ENV.failureThreshold;
  const failureThreshold = consecutiveOn ? integerIn(`${context}.failureThreshold`, options.failureThreshold, threshold.min, threshold.max, env?.failureThreshold) : 0;
  const reset = BREAKER_ENV.resetTimeoutMs;
  const resetTimeoutMs = integerIn(`${context}.resetTimeoutMs`, options.resetTimeoutMs, reset.min, reset.max, env?.resetTimeoutMs);
  const probes = BREAKER_ENV.halfOpenRequests;
  const halfOpenRequests = integerIn(`${context}.halfOpenRequests`, options.halfOpenRequests, probes.min, probes.max, env?.halfOpenRequests);
  const ratio = numberIn(`${context}.halfOpenSuccessRatio`, options.halfOpenSuccessRatio, 0, 1, { exclusiveMin: true, fallback: 1 });
  const probeTimeoutMs = integerIn(`${context}.probeTimeoutMs`, options.probeTimeoutMs, 1, 86_400_000, 60_000);

  const classify = optionalFunction<(outcome: OutcomeInput) => CallOutcome>(`${context}.classify`, options.classify);
  const mode = options.mode ?? 'normal';
  if (!MODES.has(mode)) throw new TypeError(`${context}.mode must be one of ${[...MODES].join(', ')} (got ${describe(mode)})`);
  if (options.latencySampling !== undefined && typeof options.latencySampling !== 'boolean') {
    throw new TypeError(`${context}.latencySampling must be a boolean (got ${describe(options.latencySampling)})`);
  }
  if (options.registry !== undefined && !isRegistry(options.registry)) throw new TypeError(`${context}.registry must be a prom-client Registry`);
  if (options.logger !== undefined && !isLogger(options.logger)) throw new TypeError(`${context}.logger must have error, warn, info and debug methods`);
  const now = optionalFunction<() => number>(`${context}.now`, options.now) ?? defaultNow;
  const logger = options.logger ?? silentLogger;

  return Object.freeze({
    service,
    failureThreshold,
    failureRate,
    slowCall,
    window,
    resetTimeoutMs,
    halfOpenRequests,
    // A small epsilon so that 0.6 × 5 = 3.0000000000000004 asks for 3 probes, not 4.
    probesToClose: Math.max(1, Math.ceil(ratio * halfOpenRequests - 1e-9)),
    probeTimeoutMs,
    classify,
    mode,
    measureEveryCall: slowCall !== undefined || classify !== undefined || window?.kind === 'time' || options.latencySampling === false,
    hub: breakerMetricsHub(options.registry ?? defaultMetricsRegistry(), logger),
    logger,
    now,
  });
}
