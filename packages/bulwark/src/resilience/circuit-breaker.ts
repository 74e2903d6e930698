import { RESULT_FAILURE, RESULT_IGNORED, RESULT_REJECTED, RESULT_SUCCESS, type ServiceSeries, type StateRefresher } from './breaker-metrics.js';
import { resolveBreakerConfig, type BreakerConfig, type CircuitBreakerOptions } from './breaker-options.js';
import { CircuitOpenError, isBulkheadRejectedError, isCircuitOpenError } from './errors.js';
import { ROOT_CONTEXT } from './policy.js';
import { CountWindow, TimeWindow, type OutcomeWindow } from './sliding-window.js';
import type { BreakerMode, BreakerSnapshot, CallOutcome, CircuitBreaker, CircuitState, PolicyContext, TransitionEvent, TransitionReason } from './types.js';
import { describe, nonEmptyString } from './validate.js';

const CLOSED = 0;
const HALF_OPEN = 1;
const OPEN = 2;
const STATE_NAMES: readonly CircuitState[] = ['closed', 'half-open', 'open'];

const MODE_NORMAL = 0;
const MODE_DISABLED = 1;
const MODE_METRICS_ONLY = 2;
const MODE_FORCED_OPEN = 3;
const MODE_NAMES: readonly BreakerMode[] = ['normal', 'disabled', 'metrics-only', 'forced-open'];

// A permit is `generation * 4 + kind`: equal permits need no per-call state, and a permit from an
// earlier generation can never match the current ones.
const KIND_CALL = 1;
const KIND_PROBE = 2;
const KIND_PASS = 3;
const NO_PERMIT = -1;

/** Longest interval between timed calls while sampling (a timed call stands for at most 64 calls). */
const MAX_SAMPLE_WEIGHT = 64;
/** Timed calls closer together than this double the sampling interval… */
const SAMPLE_DENSER_THAN_MS = 2;
/** …and a gap longer than this times every call again. */
const SAMPLE_SPARSER_THAN_MS = 20;

type Listener = (event: TransitionEvent) => void;
const noop = (): void => undefined;
/** Classifier failures in this process, to thin out their warnings. */
let classifierFailures = 0;

/** The implementation behind {@link createCircuitBreaker}; registries use its extra members. */
export class Breaker implements CircuitBreaker, StateRefresher {
  readonly name: string;
  readonly service: string;
  private readonly config: BreakerConfig;
  private readonly series: ServiceSeries;
  private readonly counts: Float64Array;

  private stateCode = CLOSED;
  private modeCode: number;
  private generation = 1;
  /** The permit `tryAcquire` returns without any check, or 0 when it must look at the state. */
  private fastPermit = 0;
  private callPermit = NO_PERMIT;
  private probePermit = NO_PERMIT;
  /** When the current state began, on the breaker's clock. */
  private stateSince = 0;
  private consecutiveFailures = 0;
  private probesIssued = 0;
  private probeSuccesses = 0;
  private probeFailures = 0;
  /** When the probes now out (issued, not yet reported) began to be out; meaningful only while some are. */
  private probesOutSince = 0;
  private window: OutcomeWindow | undefined;
  private sampleCountdown = 1;
  private sampleWeight = 1;
  private lastSampleAt = Number.NEGATIVE_INFINITY;
  /** Last time the breaker or its registry saw it used; registries evict only idle breakers. */
  lastActivityAt: number;
  private boundPermit = 0;
  private onFulfilled: () => void = noop;
  private onRejected: (error: unknown) => void = noop;
  private listeners: Listener[] | undefined;
  private rejection: Promise<never> | undefined;
  private disposed = false;

  constructor(name: string, config: BreakerConfig) {
    this.name = name;
    this.config = config;
    this.service = config.service ?? name;
    this.series = config.hub.acquire(this.service);
    this.counts = this.series.counts;
    this.modeCode = MODE_NAMES.indexOf(config.mode);
    this.lastActivityAt = config.now();
    this.stateSince = this.lastActivityAt;
    if (this.modeCode === MODE_FORCED_OPEN) this.moveTo(OPEN, 'isolated', this.lastActivityAt);
    this.updatePermits();
  }

  get state(): CircuitState {
    if (this.stateCode !== CLOSED) this.refreshAt(this.config.now());
    return STATE_NAMES[this.stateCode] ?? 'closed';
  }

  get mode(): BreakerMode {
    return MODE_NAMES[this.modeCode] ?? 'normal';
  }

  /** Whether a registry may evict this breaker: closed, in its configured mode, unused for `idleMs`. */
  isEvictable(now: number, idleMs: number): boolean {
    return this.stateCode === CLOSED && this.mode === this.config.mode && now - this.lastActivityAt >= idleMs;
  }

  refreshState(): void {
    if (this.stateCode !== CLOSED) this.refreshAt(this.config.now());
  }

  tryAcquire(): number {
    const permit = this.fastPermit;
    return permit !== 0 ? permit : this.acquireSlow();
  }

  release(permit: number, outcome: CallOutcome, durationMs: number): void {
    if (durationMs >= 0) this.series.latency.observe(durationMs / 1000, 1);
    this.settle(permit, outcome === 'success' ? RESULT_SUCCESS : outcome === 'failure' ? RESULT_FAILURE : RESULT_IGNORED, durationMs);
  }

  execute<T>(fn: (context: PolicyContext) => Promise<T> | T, context?: PolicyContext): Promise<T> {
    // A programming error, not a dependency failure: checked before a permit is taken.
    if (typeof fn !== 'function') return Promise.reject(new TypeError('execute expects a function'));
    const permit = this.fastPermit !== 0 ? this.fastPermit : this.acquireSlow();
    if (permit === 0) return this.rejected();
    // One countdown serves both timing policies: it stays at 1 when every call is timed.
    if (--this.sampleCountdown <= 0) return this.executeTimed(fn, permit, context ?? ROOT_CONTEXT);
    let pending: Promise<T> | T;
    try {
      pending = fn(context ?? ROOT_CONTEXT);
    } catch (error) {
      this.settleErrorQuietly(permit, error, context?.signal);
      return Promise.reject(error);
    }
    // The caller gets the call's own promise, with the bookkeeping attached as a reaction registered
    // before the caller's (so the state is updated before the caller resumes): no extra promise hop
    // for the caller to await. The handlers are bound once per permit value, not created per call.
    const promise = Promise.resolve(pending);
    if (permit !== this.boundPermit) this.bindHandlers(permit);
    // A caller's context can abort (a client that went away): then the rejection is the caller's,
    // not the dependency's, and must not count. Only such calls pay for a handler of their own.
    if (context === undefined || context === ROOT_CONTEXT) promise.then(this.onFulfilled, this.onRejected);
    else promise.then(this.onFulfilled, (error: unknown) => this.settleErrorQuietly(permit, error, context.signal));
    return promise;
  }

  forceOpen(): void {
    if (this.modeCode === MODE_FORCED_OPEN) return;
    if (this.modeCode === MODE_DISABLED) this.modeCode = MODE_NORMAL;
    this.moveTo(OPEN, 'forced-open', this.config.now());
  }

  isolate(): void {
    this.changeMode(MODE_FORCED_OPEN, 'isolated');
  }

  reset(): void {
    this.modeCode = MODE_NAMES.indexOf(this.config.mode);
    this.moveTo(this.modeCode === MODE_FORCED_OPEN ? OPEN : CLOSED, 'reset', this.config.now());
  }

  setMode(mode: BreakerMode): void {
    const code = MODE_NAMES.indexOf(mode);
    if (code < 0) throw new TypeError(`mode must be one of ${MODE_NAMES.join(', ')} (got ${describe(mode)})`);
    this.changeMode(code, code === MODE_FORCED_OPEN ? 'isolated' : 'mode-change');
  }

  on(event: 'transition', listener: (event: TransitionEvent) => void): () => void {
    if (event !== 'transition') throw new TypeError(`unknown event ${describe(event)}; a breaker emits "transition"`);
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    (this.listeners ??= []).push(listener);
    return () => {
      const index = this.listeners?.indexOf(listener) ?? -1;
      if (index >= 0) this.listeners?.splice(index, 1);
    };
  }

  snapshot(): BreakerSnapshot {
    const state = this.state;
    const window = this.window;
    if (window !== undefined && this.config.window?.kind === 'time') window.advance(this.config.now());
    return {
      name: this.name,
      service: this.service,
      state,
      mode: this.mode,
      failures: this.consecutiveFailures,
      retryAfterMs: this.retryAfterMs(),
      generation: this.generation,
      ...(window === undefined
        ? {}
        : {
            window: {
              calls: window.calls,
              failures: window.failures,
              slowCalls: window.slowCalls,
              failureRate: window.calls === 0 ? 0 : window.failures / window.calls,
              slowCallRate: window.calls === 0 ? 0 : window.slowCalls / window.calls,
            },
          }),
      ...(this.stateCode === HALF_OPEN ? { halfOpen: { permitsInUse: this.probesIssued, successes: this.probeSuccesses, failures: this.probeFailures } } : {}),
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.config.hub.release(this.series, this, STATE_NAMES[this.stateCode] ?? 'closed');
  }

  /** Whole milliseconds until an open breaker lets a probe through. */
  retryAfterMs(): number {
    if (this.modeCode === MODE_FORCED_OPEN) return this.config.resetTimeoutMs;
    if (this.stateCode === OPEN) return Math.max(0, Math.ceil(this.stateSince + this.config.resetTimeoutMs - this.config.now()));
    // Half-open with every probe taken: the probes report within a call's duration.
    if (this.stateCode === HALF_OPEN) return Math.min(1000, this.config.resetTimeoutMs);
    return 0;
  }

  // --- acquiring -------------------------------------------------------------------------------

  private acquireSlow(): number {
    if (this.modeCode !== MODE_FORCED_OPEN) {
      const now = this.config.now();
      this.refreshAt(now);
      if (this.fastPermit !== 0) return this.fastPermit;
      if (this.stateCode === HALF_OPEN && this.probesIssued < this.config.halfOpenRequests) {
        if (!this.probesOut()) this.probesOutSince = now;
        this.probesIssued += 1;
        return this.probePermit;
      }
      // A dry run lets the call through; its outcome moves nothing.
      if (this.modeCode === MODE_METRICS_ONLY) return this.generation * 4 + KIND_PASS;
    }
    this.counts[RESULT_REJECTED] = (this.counts[RESULT_REJECTED] ?? 0) + 1;
    return 0;
  }

  private rejected<T>(): Promise<T> {
    if (this.rejection === undefined) {
      const rejection = Promise.reject(new CircuitOpenError(this.name, () => this.retryAfterMs()));
      // Handled once here, so that a caller that drops the promise causes no unhandled-rejection
      // noise; every caller that awaits it still receives the error.
      rejection.catch(noop);
      this.rejection = rejection;
    }
    return this.rejection;
  }

  /** Lazy transitions: open → half-open once the reset timeout has passed; half-open → open when probes never report. */
  private refreshAt(now: number): void {
    if (this.modeCode === MODE_FORCED_OPEN || this.modeCode === MODE_DISABLED) return;
    if (this.stateCode === OPEN) {
      if (now - this.stateSince >= this.config.resetTimeoutMs) this.moveTo(HALF_OPEN, 'reset-timeout', now);
    } else if (this.stateCode === HALF_OPEN && this.probesOut() && now - this.probesOutSince >= this.config.probeTimeoutMs) {
      // Timed from the probes, not from entering half-open: a read (a scrape, a health page) moves
      // the breaker to half-open with no call in sight, and sparse traffic may take longer than
      // probeTimeoutMs to bring the probes; timing out then would reopen a breaker no probe failed.
      this.moveTo(OPEN, 'probe-timeout', now);
    }
  }

  /** Whether a probe of this half-open episode was issued and has not reported yet. */
  private probesOut(): boolean {
    return this.probesIssued > this.probeSuccesses + this.probeFailures;
  }

  // --- settling --------------------------------------------------------------------------------

  private bindHandlers(permit: number): void {
    this.boundPermit = permit;
    // They return nothing: the promise `then` derives is dropped, and must neither reject nor keep
    // the call's value alive.
    this.onFulfilled = (): void => {
      try {
        this.settle(permit, RESULT_SUCCESS, -1);
      } catch (error) {
        this.bookkeepingFailed(error);
      }
    };
    this.onRejected = (error: unknown): void => this.settleErrorQuietly(permit, error);
  }

  private settleErrorQuietly(permit: number, error: unknown, signal?: AbortSignal): void {
    try {
      this.settleError(permit, error, -1, Number.NaN, signal);
    } catch (failure) {
      this.bookkeepingFailed(failure);
    }
  }

  /** Only a user-supplied clock can throw here; the caller already has its result, so log it. */
  private bookkeepingFailed(error: unknown): void {
    try {
      this.config.logger.error({ err: error, breaker: this.name }, 'circuit breaker could not record an outcome');
    } catch {
      // Nothing left to tell.
    }
  }

  /**
   * The timed form of `execute`: two clock reads and a reaction per call that knows when the call
   * started. Taken by every call when something needs every duration, else by a sample of calls.
   */
  private executeTimed<T>(fn: (context: PolicyContext) => Promise<T> | T, permit: number, context: PolicyContext): Promise<T> {
    const start = this.config.now();
    const weight = this.nextSample(start);
    this.lastActivityAt = start;
    let pending: Promise<T> | T;
    try {
      pending = fn(context);
    } catch (error) {
      this.finishTimed(permit, start, weight, true, error, context);
      return Promise.reject(error);
    }
    const promise = Promise.resolve(pending);
    promise.then(
      (value) => this.finishTimed(permit, start, weight, false, value, context),
      (error: unknown) => this.finishTimed(permit, start, weight, true, error, context),
    );
    return promise;
  }

  private finishTimed(permit: number, start: number, weight: number, failed: boolean, valueOrError: unknown, context: PolicyContext): void {
    try {
      const end = this.config.now();
      const durationMs = end - start;
      this.series.latency.observe(durationMs / 1000, weight);
      if (failed) this.settleError(permit, valueOrError, durationMs, end, context.signal);
      else this.settle(permit, this.classifyResult(valueOrError, durationMs), durationMs, end);
    } catch (error) {
      this.bookkeepingFailed(error);
    }
  }

  /** Adapts the sampling interval to the call rate; returns the weight of the call being timed. */
  private nextSample(start: number): number {
    if (this.config.measureEveryCall) {
      this.sampleCountdown = 1;
      return 1;
    }
    const weight = this.sampleWeight;
    const gap = start - this.lastSampleAt;
    this.lastSampleAt = start;
    let next = weight;
    if (gap < SAMPLE_DENSER_THAN_MS) next = Math.min(MAX_SAMPLE_WEIGHT, weight * 2);
    else if (gap > SAMPLE_SPARSER_THAN_MS) next = 1;
    this.sampleWeight = next;
    this.sampleCountdown = next;
    return weight;
  }

  private classifyResult(result: unknown, durationMs: number): number {
    const classify = this.config.classify;
    if (classify === undefined) return RESULT_SUCCESS;
    return this.classified(() => classify({ result, durationMs }), RESULT_SUCCESS);
  }

  private settleError(permit: number, error: unknown, durationMs: number, endMs = Number.NaN, signal?: AbortSignal): void {
    let code = RESULT_FAILURE;
    // Rejections by this or another breaker, or by a bulkhead, say nothing about the dependency; nor
    // does a call its caller gave up on (the caller's signal aborted: a client that went away).
    if (isCircuitOpenError(error) || isBulkheadRejectedError(error) || signal?.aborted === true) code = RESULT_IGNORED;
    else if (this.config.classify !== undefined) {
      const classify = this.config.classify;
      code = this.classified(() => classify({ error, durationMs }), RESULT_FAILURE);
    }
    this.settle(permit, code, durationMs, endMs);
  }

  private classified(run: () => CallOutcome, fallback: number): number {
    try {
      const outcome = run();
      if (outcome === 'success') return RESULT_SUCCESS;
      if (outcome === 'failure') return RESULT_FAILURE;
      if (outcome === 'ignored') return RESULT_IGNORED;
      this.classifierFailed({ breaker: this.name, outcome: describe(outcome) }, 'circuit breaker classify returned an unknown outcome; using the default');
    } catch (error) {
      this.classifierFailed({ err: error, breaker: this.name }, 'circuit breaker classify threw; using the default');
    }
    return fallback;
  }

  /** A broken classifier fails on every call: log the 1st, 10th, 100th… time, not every time. */
  private classifierFailed(fields: Record<string, unknown>, message: string): void {
    classifierFailures += 1;
    let remaining = classifierFailures;
    while (remaining % 10 === 0) remaining /= 10;
    if (remaining === 1) this.config.logger.warn({ ...fields, occurrences: classifierFailures }, message);
  }

  /** `endMs`, when known (a timed call), spares another clock read; NaN otherwise. */
  private settle(permit: number, code: number, durationMs: number, endMs = Number.NaN): void {
    this.counts[code] = (this.counts[code] ?? 0) + 1;
    if (permit === this.callPermit) {
      if (code === RESULT_SUCCESS) {
        this.consecutiveFailures = 0;
        if (this.config.window !== undefined) this.recordInWindow(false, durationMs, endMs);
      } else if (code === RESULT_FAILURE) {
        this.closedFailure(durationMs, endMs);
      }
    } else if (permit === this.probePermit) {
      this.probeSettled(code, durationMs, endMs);
    }
    // Any other permit comes from an earlier generation or a pass-through: it moves nothing.
  }

  private isSlow(durationMs: number): boolean {
    const slowCall = this.config.slowCall;
    return slowCall !== undefined && durationMs >= slowCall.durationMs;
  }

  private closedFailure(durationMs: number, endMs: number): void {
    const now = Number.isNaN(endMs) ? this.config.now() : endMs;
    this.lastActivityAt = now;
    this.consecutiveFailures += 1;
    const threshold = this.config.failureThreshold;
    if (threshold > 0 && this.consecutiveFailures >= threshold) {
      this.moveTo(OPEN, 'consecutive-failures', now);
      return;
    }
    if (this.config.window !== undefined) this.recordInWindow(true, durationMs, now);
  }

  private recordInWindow(failed: boolean, durationMs: number, endMs: number): void {
    const config = this.config;
    const spec = config.window;
    if (spec === undefined) return;
    const window = (this.window ??= spec.kind === 'count' ? new CountWindow(spec.size) : new TimeWindow(spec.durationMs));
    const slow = this.isSlow(durationMs);
    // A count window needs no time; the clock is read only for a time window or a transition.
    const now = !Number.isNaN(endMs) ? endMs : spec.kind === 'time' || slow ? config.now() : 0;
    window.record(now, failed, slow);
    // Only a failure or a slow call can raise a rate.
    if (!failed && !slow) return;
    const calls = window.calls;
    const rate = config.failureRate;
    if (rate !== undefined && calls >= rate.minimumCalls && window.failures / calls >= rate.threshold) {
      this.moveTo(OPEN, 'failure-rate', now);
      return;
    }
    const slowCall = config.slowCall;
    if (slowCall !== undefined && calls >= slowCall.minimumCalls && window.slowCalls / calls >= slowCall.rateThreshold) {
      this.moveTo(OPEN, 'slow-call-rate', now);
    }
  }

  private probeSettled(code: number, durationMs: number, endMs: number): void {
    if (code === RESULT_IGNORED) {
      // Says nothing about the dependency: the permit goes back for another probe.
      this.probesIssued -= 1;
      return;
    }
    const now = Number.isNaN(endMs) ? this.config.now() : endMs;
    // A slow probe is a failed probe: closing on slow successes would reopen on the slow-call rate.
    if (code === RESULT_SUCCESS && !this.isSlow(durationMs)) {
      this.probeSuccesses += 1;
      if (this.probeSuccesses >= this.config.probesToClose) this.moveTo(CLOSED, 'probes-succeeded', now);
      return;
    }
    this.probeFailures += 1;
    if (this.probeFailures > this.config.halfOpenRequests - this.config.probesToClose) this.moveTo(OPEN, 'probe-failed', now);
  }

  // --- state changes ---------------------------------------------------------------------------

  private changeMode(mode: number, reason: TransitionReason): void {
    const previous = this.modeCode;
    if (previous === mode) return;
    this.modeCode = mode;
    const now = this.config.now();
    if (mode === MODE_FORCED_OPEN) this.moveTo(OPEN, reason, now);
    else if (mode === MODE_DISABLED || previous === MODE_FORCED_OPEN || previous === MODE_DISABLED) this.moveTo(CLOSED, reason, now);
    // normal ⇄ metrics-only keeps the state, but calls started under the other mode no longer count.
    else this.moveTo(this.stateCode, reason, now);
  }

  /**
   * Enters `to` (or restarts the current state): a new generation, fresh counters, new permits.
   * Emits a transition when the state changes. Never throws: metrics, logs and listeners are guarded.
   */
  private moveTo(to: number, reason: TransitionReason, now: number): void {
    const from = this.stateCode;
    this.generation += 1;
    this.stateCode = to;
    this.stateSince = now;
    this.lastActivityAt = now;
    this.consecutiveFailures = 0;
    this.probesIssued = 0;
    this.probeSuccesses = 0;
    this.probeFailures = 0;
    this.window?.clear();
    this.updatePermits();
    if (from === to) return;
    const event: TransitionEvent = { name: this.name, service: this.service, from: STATE_NAMES[from] ?? 'closed', to: STATE_NAMES[to] ?? 'closed', reason };
    this.config.hub.stateChanged(this.series, this, event.from, event.to, this.config.logger);
    try {
      const fields = { breaker: this.name, service: this.service, from: event.from, to: event.to, reason };
      if (to === OPEN) this.config.logger.warn(fields, 'circuit breaker opened');
      else this.config.logger.info(fields, `circuit breaker ${event.to}`);
    } catch {
      // A failing logger must not break the call that moved the state.
    }
    const listeners = this.listeners;
    if (listeners === undefined || listeners.length === 0) return;
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        try {
          this.config.logger.error({ err: error, breaker: this.name }, 'circuit breaker transition listener threw');
        } catch {
          // As above.
        }
      }
    }
  }

  private updatePermits(): void {
    const base = this.generation * 4;
    this.callPermit = NO_PERMIT;
    this.probePermit = NO_PERMIT;
    this.fastPermit = 0;
    if (this.modeCode === MODE_DISABLED) {
      this.fastPermit = base + KIND_PASS;
    } else if (this.modeCode !== MODE_FORCED_OPEN) {
      if (this.stateCode === CLOSED) {
        this.callPermit = base + KIND_CALL;
        this.fastPermit = this.callPermit;
      } else if (this.stateCode === HALF_OPEN) {
        this.probePermit = base + KIND_PROBE;
      }
    }
  }
}

/**
 * Creates a circuit breaker. Options are validated once (a `TypeError` names the option and its
 * range); defaults not given come from `BULWARK_BREAKER_*` environment variables, read now.
 *
 * @example
 * const breaker = createCircuitBreaker({
 *   name: 'payments',
 *   failureRate: { threshold: 0.5, minimumCalls: 20, window: { kind: 'time', durationMs: 30_000 } },
 *   slowCall: { durationMs: 2000, rateThreshold: 0.8 },
 * });
 * breaker.on('transition', (e) => logger.warn(e, 'breaker moved'));
 */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  if (typeof options !== 'object' || options === null) throw new TypeError('createCircuitBreaker expects an options object');
  const { name, ...rest } = options;
  return new Breaker(nonEmptyString('name', name, 512), resolveBreakerConfig(rest));
}

