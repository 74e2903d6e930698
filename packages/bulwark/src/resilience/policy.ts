import type { CircuitBreaker, Policy, PolicyContext } from './types.js';

/** The context of a call made outside any policy: a signal that never aborts, attempt 1. */
export const ROOT_CONTEXT: PolicyContext = Object.freeze({ signal: new AbortController().signal, attempt: 1 });

/**
 * Composes policies, outermost first: `wrap(retry, breaker, timeout)` retries calls that go
 * through the breaker, each attempt under its own timeout. Each policy passes the context it
 * derives (a timeout's signal, a retry's attempt number) to the next, and the innermost function
 * receives the result of all of them. A circuit breaker is a policy as it is.
 *
 * Order matters and the usual one is: fallback → retry → circuit breaker → bulkhead → timeout.
 * Retry outside the breaker so that an open breaker stops the retries (a rejection is never
 * retried); timeout inside so that a slow call counts as a breaker failure.
 *
 * @example
 * const policy = wrap(
 *   retry({ maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 1000, jitter: 'full', budget }),
 *   breaker,
 *   timeout(2000),
 * );
 * const body = await policy.execute(({ signal }) => fetch(url, { signal }).then((r) => r.json()));
 */
export function wrap(...policies: Policy[]): Policy {
  for (const [index, policy] of policies.entries()) {
    if (typeof policy !== 'object' || policy === null || typeof policy.execute !== 'function') {
      throw new TypeError(`wrap: argument ${index + 1} is not a policy (an object with an execute method)`);
    }
  }
  const chain = [...policies];
  const run = <T>(index: number, fn: (context: PolicyContext) => Promise<T> | T, context: PolicyContext): Promise<T> => {
    const policy = chain[index];
    if (policy === undefined) {
      try {
        return Promise.resolve(fn(context));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return policy.execute((inner) => run(index + 1, fn, inner), context);
  };
  return {
    execute: <T>(fn: (context: PolicyContext) => Promise<T> | T, context: PolicyContext = ROOT_CONTEXT): Promise<T> => run(0, fn, context),
  };
}

/**
 * A breaker as a {@link Policy}, for `wrap(retry, breakerPolicy(breaker), timeout)`. Breakers
 * already are policies, so this returns `breaker` itself; it exists for readers who prefer to
 * see the conversion.
 */
export function breakerPolicy(breaker: CircuitBreaker): Policy {
  return breaker;
}
