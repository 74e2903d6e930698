import { ROOT_CONTEXT } from './policy.js';
import type { Policy, PolicyContext } from './types.js';
import { optionalFunction } from './validate.js';

export interface FallbackOptions {
  /**
   * Which errors the fallback answers. @default every error, unless the caller's signal aborted
   * (a caller that gave up wants no answer, not a substitute one)
   */
  readonly shouldHandle?: (error: unknown) => boolean;
}

/**
 * Answers with `handler(error)` when the call fails: a cached value, a default, a degraded
 * response. Put it outermost, so that it also covers breaker and bulkhead rejections.
 *
 * @example
 * const policy = wrap(fallback(() => cachedPrices), breaker, timeout(500));
 * const prices = await policy.execute(({ signal }) => pricing.fetch({ signal }));
 */
export function fallback<R>(handler: (error: unknown) => R | Promise<R>, options: FallbackOptions = {}): Policy {
  if (typeof handler !== 'function') throw new TypeError('fallback handler must be a function');
  const shouldHandle = optionalFunction<(error: unknown) => boolean>('shouldHandle', options.shouldHandle);
  return {
    async execute<T>(fn: (context: PolicyContext) => Promise<T> | T, context: PolicyContext = ROOT_CONTEXT): Promise<T> {
      try {
        return await fn(context);
      } catch (error) {
        const handles = shouldHandle === undefined ? !context.signal.aborted : shouldHandle(error);
        if (!handles) throw error;
        // The handler's type is the caller's promise: a fallback answers in the call's stead.
        return (await handler(error)) as unknown as T;
      }
    },
  };
}
