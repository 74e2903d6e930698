/**
 * Types shared by the circuit breaker, its registry and the policies. Kept apart from the
 * implementations so that `import type` users load no code.
 */

/** The three states of a circuit breaker. */
export type CircuitState = 'closed' | 'half-open' | 'open';

/**
 * How a breaker behaves, whatever its state:
 * - `normal`: closed / open / half-open as configured;
 * - `disabled`: every call passes, outcomes are counted in metrics but never move the state (which reads `closed`);
 * - `metrics-only`: the state machine runs and reports transitions, but no call is ever rejected (a dry run);
 * - `forced-open`: every call is rejected until the mode changes or {@link CircuitBreaker.reset} (what `isolate()` sets).
 */
export type BreakerMode = 'normal' | 'disabled' | 'metrics-only' | 'forced-open';

/** How a call's outcome counts: toward closing, toward opening, or not at all. */
export type CallOutcome = 'success' | 'failure' | 'ignored';

/** What a classifier sees: the error (when the call threw) or the result, and how long it took. */
export interface OutcomeInput {
  readonly error?: unknown;
  readonly result?: unknown;
  /** Milliseconds the call took. */
  readonly durationMs: number;
}

/** Why a breaker changed state; the `reason` of a transition event. */
export type TransitionReason =
  | 'consecutive-failures'
  | 'failure-rate'
  | 'slow-call-rate'
  | 'reset-timeout'
  | 'probes-succeeded'
  | 'probe-failed'
  | 'probe-timeout'
  | 'forced-open'
  | 'isolated'
  | 'reset'
  | 'mode-change';

/** Emitted on every state change, including changes made lazily on read. */
export interface TransitionEvent {
  readonly name: string;
  readonly service: string;
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly reason: TransitionReason;
}

/** What a breaker reports for health pages and the admin API. */
export interface BreakerSnapshot {
  readonly name: string;
  readonly service: string;
  readonly state: CircuitState;
  readonly mode: BreakerMode;
  /** Consecutive failures counted in the closed state. */
  readonly failures: number;
  /** Milliseconds before an open breaker lets a probe through; 0 when not open. */
  readonly retryAfterMs: number;
  /** Increases on every state change; outcomes of calls started under an older generation are ignored. */
  readonly generation: number;
  /** The sliding window, when a failure-rate or slow-call model is configured and it has seen calls. */
  readonly window?: {
    readonly calls: number;
    readonly failures: number;
    readonly slowCalls: number;
    readonly failureRate: number;
    readonly slowCallRate: number;
  };
  /** Probe accounting while half-open. */
  readonly halfOpen?: { readonly permitsInUse: number; readonly successes: number; readonly failures: number };
}

/** What every policy passes to the function it runs. */
export interface PolicyContext {
  /** Aborted when the caller gives up or a timeout policy fires; pass it to fetch, undici, ioredis… */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
}

/**
 * Something that runs a function with a resilience behaviour (timeout, retry, bulkhead, fallback,
 * circuit breaker). Policies compose with {@link wrap}. The optional `context` is the one of an
 * enclosing policy; a policy derives the context it passes on from it.
 */
export interface Policy {
  execute<T>(fn: (context: PolicyContext) => Promise<T> | T, context?: PolicyContext): Promise<T>;
}

/**
 * A circuit breaker. It is also a {@link Policy}, so it composes with `wrap`.
 *
 * @example
 * const breaker = createCircuitBreaker({ name: 'billing', failureThreshold: 5, resetTimeoutMs: 30_000 });
 * const invoice = await breaker.execute(() => billing.getInvoice(id));
 */
export interface CircuitBreaker extends Policy {
  readonly name: string;
  /** The `service` metric label. */
  readonly service: string;
  /** The state now: reading it moves an open breaker whose reset timeout has passed to half-open. */
  readonly state: CircuitState;
  readonly mode: BreakerMode;
  /**
   * Runs `fn` if the breaker allows it, and counts its outcome. When it does not, returns a
   * rejected promise of the breaker's {@link CircuitOpenError} (reused, without a stack) and does
   * not call `fn`. Never throws synchronously.
   *
   * The promise returned is `fn`'s own (the outcome is recorded by a reaction attached before the
   * caller's), which spares every call a promise hop. As with the reused open-state rejection,
   * the breaker's reaction marks a rejection as handled: await or handle what `execute` returns,
   * since a dropped rejection is not reported as unhandled.
   */
  execute<T>(fn: (context: PolicyContext) => Promise<T> | T, context?: PolicyContext): Promise<T>;
  /**
   * The hot-path form of `execute`: returns a permit (> 0) to proceed, or 0 when the call is
   * rejected; allocates nothing. Pass the permit to {@link release} exactly once.
   *
   * @example
   * const permit = breaker.tryAcquire();
   * if (permit === 0) return fallback();
   * const start = performance.now();
   * try { const value = await redis.get(key); breaker.release(permit, 'success', performance.now() - start); return value; }
   * catch (error) { breaker.release(permit, 'failure', performance.now() - start); throw error; }
   */
  tryAcquire(): number;
  /**
   * Reports the outcome of a call started with {@link tryAcquire}. `durationMs` feeds the latency
   * histogram and the slow-call model; pass -1 when it was not measured. The outcome of a call
   * started before the last state change moves nothing.
   */
  release(permit: number, outcome: CallOutcome, durationMs: number): void;
  /** Opens now; the breaker then recovers as usual (half-open after `resetTimeoutMs`). */
  forceOpen(): void;
  /** Holds the breaker open (mode `forced-open`) until {@link reset}. */
  isolate(): void;
  /** Closes the breaker, forgets its counts and returns to its configured mode. */
  reset(): void;
  setMode(mode: BreakerMode): void;
  /** Subscribes to state changes; returns the unsubscribe function. Listener errors are logged, never thrown. */
  on(event: 'transition', listener: (event: TransitionEvent) => void): () => void;
  snapshot(): BreakerSnapshot;
  /** Releases the breaker's metric series (the last breaker of a service removes them). It keeps working. */
  dispose(): void;
}
