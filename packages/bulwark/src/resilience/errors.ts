import { ApiError } from '../errors/api-error.js';

/** Seconds for a `Retry-After` header: whole seconds, at least 1 so that clients never retry in a loop. */
function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

/**
 * A call refused by an open (or half-open and busy) circuit breaker. Answers as `503 CIRCUIT_OPEN`
 * with `Retry-After` through `toProblem`.
 *
 * A breaker preallocates one instance and reuses it for every rejection, so it has no stack and
 * `retryAfterMs` is computed when read: read it while handling the rejection. The detail sent to
 * clients never contains the breaker's name (it may carry a tenant or node key); `breakerName` is
 * for logs.
 */
export class CircuitOpenError extends ApiError {
  declare readonly code: 'CIRCUIT_OPEN';
  /** The breaker that refused the call (its `name`, which may carry a key: log it, do not send it). */
  readonly breakerName: string;
  /** Milliseconds until the breaker lets a probe through (computed on read for a breaker's reused instance). */
  declare readonly retryAfterMs: number;

  constructor(breakerName: string, retryAfterMs: number | (() => number)) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super('CIRCUIT_OPEN', { detail: 'A dependency is failing and calls to it are paused; retry later.' });
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'CircuitOpenError';
    this.breakerName = breakerName;
    const read = typeof retryAfterMs === 'function' ? retryAfterMs : () => retryAfterMs;
    Object.defineProperty(this, 'retryAfterMs', { get: read, enumerable: true, configurable: true });
    Object.defineProperty(this, 'headers', {
      get: () => ({ 'retry-after': retryAfterSeconds(read()) }),
      enumerable: true,
      configurable: true,
    });
  }
}

/** Whether `error` is a {@link CircuitOpenError}, also one from another copy of this module. */
export function isCircuitOpenError(error: unknown): error is CircuitOpenError {
  if (error instanceof CircuitOpenError) return true;
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === 'CIRCUIT_OPEN' &&
    typeof (error as { breakerName?: unknown }).breakerName === 'string'
  );
}

/** A call that did not finish within its timeout. Answers as `504 TIMEOUT` through `toProblem`. */
export class TimeoutError extends ApiError {
  declare readonly code: 'TIMEOUT';
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number, detail = 'The operation did not complete in time.') {
    super('TIMEOUT', { detail });
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** Whether `error` is a {@link TimeoutError}, also one from another copy of this module. */
export function isTimeoutError(error: unknown): error is TimeoutError {
  if (error instanceof TimeoutError) return true;
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'TIMEOUT' && typeof (error as { timeoutMs?: unknown }).timeoutMs === 'number';
}

/** Why a bulkhead refused a call: no slot and a full queue, or a queue wait that lasted too long. */
export type BulkheadRejectionReason = 'full' | 'queue-timeout';

/**
 * A call refused by a bulkhead (concurrency limit). Answers as `503 BULKHEAD_FULL` with
 * `Retry-After: 1`. Built without a stack (load shedding must stay cheap); never counted as a
 * failure by a circuit breaker.
 */
export class BulkheadRejectedError extends ApiError {
  declare readonly code: 'BULKHEAD_FULL';
  readonly reason: BulkheadRejectionReason;

  constructor(reason: BulkheadRejectionReason) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super('BULKHEAD_FULL', {
        detail: reason === 'full' ? 'Too many calls are in progress; retry shortly.' : 'The call waited too long for a free slot; retry shortly.',
        headers: { 'retry-after': '1' },
      });
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'BulkheadRejectedError';
    this.reason = reason;
  }
}

/** Whether `error` is a {@link BulkheadRejectedError}, also one from another copy of this module. */
export function isBulkheadRejectedError(error: unknown): error is BulkheadRejectedError {
  if (error instanceof BulkheadRejectedError) return true;
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'BULKHEAD_FULL';
}

