import { TimeoutError } from './errors.js';
import { ROOT_CONTEXT } from './policy.js';
import type { Policy, PolicyContext } from './types.js';
import { integerIn, optionalFunction } from './validate.js';

/** Longest delay `setTimeout` honours (about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;

export interface TimeoutOptions {
  /** Builds the rejection, e.g. an `UPSTREAM_TIMEOUT` ApiError in a gateway. @default a {@link TimeoutError} */
  readonly error?: (timeoutMs: number) => unknown;
}

/**
 * Rejects a call that has not settled within `ms` milliseconds and aborts the signal the call
 * received (with the same error as reason), so that fetch, undici or a database driver stop the
 * work instead of finishing it for nobody. The timer is cleared as soon as the call settles; an
 * abort of the caller's signal is passed on at once.
 *
 * @example
 * const body = await timeout(2000).execute(({ signal }) => fetch(url, { signal }).then((r) => r.text()));
 */
export function timeout(ms: number, options: TimeoutOptions = {}): Policy {
  const timeoutMs = integerIn('timeout ms', ms, 1, MAX_TIMER_MS);
  const makeError = optionalFunction<(timeoutMs: number) => unknown>('timeout options.error', options.error) ?? ((limit: number) => new TimeoutError(limit));
  return {
    execute<T>(fn: (context: PolicyContext) => Promise<T> | T, context: PolicyContext = ROOT_CONTEXT): Promise<T> {
      const parent = context.signal;
      if (parent.aborted) return Promise.reject(parent.reason);
      const controller = new AbortController();
      const inner: PolicyContext = { signal: controller.signal, attempt: context.attempt };
      return new Promise<T>((resolve, reject) => {
        let settled = false;
        const finish = (abortWith: unknown, settle: () => void): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          parent.removeEventListener('abort', onParentAbort);
          if (abortWith !== undefined) controller.abort(abortWith);
          settle();
        };
        const onParentAbort = (): void => finish(parent.reason, () => reject(parent.reason));
        const timer = setTimeout(() => {
          // A throwing error factory must not escape the timer callback (an uncaught exception).
          let error: unknown;
          try {
            error = makeError(timeoutMs);
          } catch (factoryError) {
            error = factoryError;
          }
          finish(error, () => reject(error));
        }, timeoutMs);
        parent.addEventListener('abort', onParentAbort, { once: true });
        let pending: Promise<T>;
        try {
          pending = Promise.resolve(fn(inner));
        } catch (error) {
          finish(undefined, () => reject(error));
          return;
        }
        pending.then(
          (value) => finish(undefined, () => resolve(value)),
          (error: unknown) => finish(undefined, () => reject(error)),
        );
      });
    },
  };
}
