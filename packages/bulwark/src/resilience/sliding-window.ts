/**
 * Sliding windows of call outcomes for the failure-rate and slow-call models. Both are O(1) per
 * call and allocate once, when created (breakers create them on their first recorded call, so
 * idle breakers in a large registry cost nothing here).
 */

/** Totals over the calls currently in a window. */
export interface OutcomeWindow {
  /** Records one call at time `nowMs` (milliseconds on the breaker's clock). */
  record(nowMs: number, failed: boolean, slow: boolean): void;
  /** Drops what has slid out of the window by `nowMs`; count windows ignore time. */
  advance(nowMs: number): void;
  /** Forgets everything (on a state change). */
  clear(): void;
  readonly calls: number;
  readonly failures: number;
  readonly slowCalls: number;
}

const CALL = 1;
const FAILED = 2;
const SLOW = 4;

/**
 * The last `size` calls, in a ring of one byte per call: the byte that drops out is subtracted from
 * the running totals, so each call costs a few integer operations whatever the size.
 */
export class CountWindow implements OutcomeWindow {
  calls = 0;
  failures = 0;
  slowCalls = 0;
  private readonly ring: Uint8Array;
  private head = 0;

  constructor(readonly size: number) {
    this.ring = new Uint8Array(size);
  }

  record(_nowMs: number, failed: boolean, slow: boolean): void {
    const old = this.ring[this.head] ?? 0;
    if (old !== 0) {
      this.calls -= 1;
      if ((old & FAILED) !== 0) this.failures -= 1;
      if ((old & SLOW) !== 0) this.slowCalls -= 1;
    }
    this.ring[this.head] = CALL | (failed ? FAILED : 0) | (slow ? SLOW : 0);
    this.calls += 1;
    if (failed) this.failures += 1;
    if (slow) this.slowCalls += 1;
    this.head = this.head + 1 === this.size ? 0 : this.head + 1;
  }

  advance(): void {
    // A count window does not expire by time.
  }

  clear(): void {
    this.ring.fill(0);
    this.head = 0;
    this.calls = 0;
    this.failures = 0;
    this.slowCalls = 0;
  }
}

/** Buckets of a time window: the window slides in steps of a tenth of its duration. */
export const TIME_WINDOW_BUCKETS = 10;

/**
 * The calls of the last `durationMs`, counted in {@link TIME_WINDOW_BUCKETS} buckets kept in a ring
 * (three integers per bucket, not a timestamp per call). Moving to a new bucket subtracts the bucket
 * that drops out from the totals: O(1) per call, at most O(buckets) after a long idle period. The
 * window covers between 9/10 and all of `durationMs`, depending on where in the current bucket the
 * clock is.
 */
export class TimeWindow implements OutcomeWindow {
  calls = 0;
  failures = 0;
  slowCalls = 0;
  /** Per bucket: calls, failures, slow calls. */
  private readonly counts = new Int32Array(TIME_WINDOW_BUCKETS * 3);
  private readonly bucketMs: number;
  private head = 0;
  private headStart = Number.NaN;

  constructor(readonly durationMs: number) {
    this.bucketMs = durationMs / TIME_WINDOW_BUCKETS;
  }

  record(nowMs: number, failed: boolean, slow: boolean): void {
    this.advance(nowMs);
    const base = this.head * 3;
    this.counts[base] = (this.counts[base] ?? 0) + 1;
    this.calls += 1;
    if (failed) {
      this.counts[base + 1] = (this.counts[base + 1] ?? 0) + 1;
      this.failures += 1;
    }
    if (slow) {
      this.counts[base + 2] = (this.counts[base + 2] ?? 0) + 1;
      this.slowCalls += 1;
    }
  }

  advance(nowMs: number): void {
    if (Number.isNaN(this.headStart)) {
      this.headStart = nowMs;
      return;
    }
    const elapsed = nowMs - this.headStart;
    // A clock that stepped backwards leaves the window where it is rather than corrupting it.
    if (elapsed < this.bucketMs) return;
    const steps = Math.floor(elapsed / this.bucketMs);
    this.headStart += steps * this.bucketMs;
    if (steps >= TIME_WINDOW_BUCKETS) {
      this.counts.fill(0);
      this.calls = 0;
      this.failures = 0;
      this.slowCalls = 0;
      return;
    }
    for (let step = 0; step < steps; step += 1) {
      this.head = this.head + 1 === TIME_WINDOW_BUCKETS ? 0 : this.head + 1;
      const base = this.head * 3;
      this.calls -= this.counts[base] ?? 0;
      this.failures -= this.counts[base + 1] ?? 0;
      this.slowCalls -= this.counts[base + 2] ?? 0;
      this.counts[base] = 0;
      this.counts[base + 1] = 0;
      this.counts[base + 2] = 0;
    }
  }

  clear(): void {
    this.counts.fill(0);
    this.head = 0;
    this.headStart = Number.NaN;
    this.calls = 0;
    this.failures = 0;
    this.slowCalls = 0;
  }
}
