/**
 * What the proxy needs from the upstream's circuit breaker: the allocation-free permit form of
 * bulwark/resilience's `CircuitBreaker` (`tryAcquire` / `release`) and, when a call is refused, how
 * long to wait. A `CircuitBreaker` satisfies it as it is.
 */
export interface UpstreamGuard {
  /** A permit (> 0) to call the upstream, or 0 when the breaker refuses. */
  tryAcquire(): number;
  /** The outcome of a permitted call: a 5xx or an upstream error is a failure, a client gone is ignored. */
  release(permit: number, outcome: 'success' | 'failure' | 'ignored', durationMs: number): void;
  snapshot(): { readonly retryAfterMs: number; readonly state: 'closed' | 'half-open' | 'open' };
}
