/**
 * The memory store's default clock: `Date.now()`, read at most once per 64 decisions taken in the
 * same turn of the event loop.
 *
 * Reading the clock is a system call costing about as much as the rest of an in-memory decision,
 * and one request often takes several (a gateway checks the route tier, the API key's limits and
 * a concurrency limit). Decisions made in one synchronous stretch of work can share a reading:
 *
 * - the cached value is dropped in a `process.nextTick` callback, which Node runs once the current
 *   task's microtasks have drained and before it returns to the event loop, so a reading never
 *   outlives the task that took it (no stale time after an idle wait);
 * - within a task, it is re-read every {@link MAX_SHARED_READS} decisions, so a long loop moves on;
 * - a stale reading is earlier than the truth, which only makes a decision stricter (no refill
 *   and no window change yet), never looser;
 * - when `Date.now` is not the native function (fake timers in tests, a library that mocks time),
 *   every call reads it, so mocked time behaves exactly as the test expects.
 */

/** Decisions that may share one reading within one task. */
export const MAX_SHARED_READS = 64;

const nativeSource = /\{\s*\[native code\]\s*\}\s*$/;
let checkedNow: () => number = Date.now;
let nowIsNative = nativeSource.test(Function.prototype.toString.call(Date.now));
let reading = 0;
let sharedReads = 0;
let armed = false;

function drop(): void {
  reading = 0;
  sharedReads = 0;
  armed = false;
}

/** Epoch milliseconds, shared within one task as described above. */
export function loopNow(): number {
  if (sharedReads > 0) {
    sharedReads -= 1;
    return reading;
  }
  return read();
}

function read(): number {
  const now = Date.now;
  if (now !== checkedNow) {
    checkedNow = now;
    nowIsNative = nativeSource.test(Function.prototype.toString.call(now));
  }
  if (!nowIsNative) return now();
  reading = now();
  sharedReads = MAX_SHARED_READS - 1;
  if (!armed) {
    armed = true;
    process.nextTick(drop);
  }
  return reading;
}
