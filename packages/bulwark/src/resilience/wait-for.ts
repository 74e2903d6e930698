import { TimeoutError } from './errors.js';
import { MAX_TIMER_MS } from './timeout.js';
import { integerIn, objectOption } from './validate.js';

export interface WaitForOptions {
  /** Milliseconds to wait at most, 0–2 147 483 647; then the promise rejects with {@link TimeoutError}. */
  readonly deadlineMs: number;
  /** Aborting it rejects the promise with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * Waits for an event instead of polling for it: `subscribe` registers `resolve`/`reject` with an
 * event source (an EventEmitter, Redis pub/sub, a job queue's events) and returns how to
 * unsubscribe. The promise settles on the first of: the event, a `reject`, the deadline, the
 * signal. The unsubscribe function is called exactly once on every exit — also when `subscribe`
 * resolves synchronously, before it has returned — and the timer and abort listener are removed.
 *
 * @example
 * // Instead of `while ((await job.status()) !== 'done') await sleep(500)`:
 * const result = await waitFor<JobResult>((resolve, reject) => {
 *   const onDone = (r: JobResult) => resolve(r);
 *   const onFailed = (e: Error) => reject(e);
 *   job.once('done', onDone).once('failed', onFailed);
 *   return () => job.off('done', onDone).off('failed', onFailed);
 * }, { deadlineMs: 30_000, signal });
 */
export function waitFor<T>(subscribe: (resolve: (value: T) => void, reject: (error: unknown) => void) => () => void, options: WaitForOptions): Promise<T> {
  if (typeof subscribe !== 'function') throw new TypeError('waitFor expects a subscribe function');
  objectOption('options', options);
  const deadlineMs = integerIn('deadlineMs', options.deadlineMs, 0, MAX_TIMER_MS);
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal');
  if (signal?.aborted === true) return Promise.reject(signal.reason);

  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let unsubscribe: (() => void) | undefined;
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      const release = unsubscribe;
      unsubscribe = undefined;
      callQuietly(release);
      settle();
    };
    const onAbort = (): void => finish(() => reject(signal?.reason));
    const timer = setTimeout(() => finish(() => reject(new TimeoutError(deadlineMs, 'The awaited event did not happen before the deadline.'))), deadlineMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    let returned: unknown;
    try {
      returned = subscribe(
        (value) => finish(() => resolve(value)),
        (error) => finish(() => reject(error)),
      );
    } catch (error) {
      finish(() => reject(error));
      return;
    }
    if (typeof returned !== 'function') {
      finish(() => reject(new TypeError('waitFor: subscribe must return an unsubscribe function')));
      return;
    }
    // Settled while subscribing: unsubscribe now that we have the function.
    if (settled) callQuietly(returned as () => void);
    else unsubscribe = returned as () => void;
  });
}

/** The promise has settled by the time this runs; an unsubscribe that throws has nobody to tell. */
function callQuietly(fn: (() => void) | undefined): void {
  if (fn === undefined) return;
  try {
    fn();
  } catch {
    // Nothing to do: the outcome is already decided.
  }
}
