/**
 * Resilience: circuit breakers (consecutive failures, failure rate and slow calls over a sliding
 * window), a bounded registry of breakers by key, and policies that compose — timeout, retry with
 * backoff, jitter and a budget, bulkhead, fallback — plus `waitFor`, an event-driven wait with a
 * deadline. Metrics go to a prom-client registry (never the global one). See docs/resilience.md.
 */
export type {
  BreakerMode,
  BreakerSnapshot,
  CallOutcome,
  CircuitBreaker,
  CircuitState,
  OutcomeInput,
  Policy,
  PolicyContext,
  TransitionEvent,
  TransitionReason,
} from './types.js';
export { createCircuitBreaker } from './circuit-breaker.js';
export type { CircuitBreakerOptions, WindowOptions } from './breaker-options.js';
export { DEFAULT_SLOW_CALL_WINDOW_SIZE } from './breaker-options.js';
export { createBreakerRegistry } from './breaker-registry.js';
export type { BreakerRegistry, BreakerRegistryOptions } from './breaker-registry.js';
export { breakerDefaultsFromEnv, BREAKER_ENV } from './env.js';
export type { BreakerEnvDefaults } from './env.js';
export { LATENCY_BUCKETS_SECONDS, STATE_GAUGE_VALUE } from './breaker-metrics.js';
export {
  CircuitOpenError,
  isCircuitOpenError,
  TimeoutError,
  isTimeoutError,
  BulkheadRejectedError,
  isBulkheadRejectedError,
} from './errors.js';
export type { BulkheadRejectionReason } from './errors.js';
export { wrap, breakerPolicy, ROOT_CONTEXT } from './policy.js';
export { timeout } from './timeout.js';
export type { TimeoutOptions } from './timeout.js';
export { retry, backoffDelayMs } from './retry.js';
export type { RetryOptions, Jitter } from './retry.js';
export { createRetryBudget } from './retry-budget.js';
export type { RetryBudget, RetryBudgetOptions } from './retry-budget.js';
export { bulkhead } from './bulkhead.js';
export type { Bulkhead, BulkheadOptions } from './bulkhead.js';
export { fallback } from './fallback.js';
export type { FallbackOptions } from './fallback.js';
export { waitFor } from './wait-for.js';
export type { WaitForOptions } from './wait-for.js';
