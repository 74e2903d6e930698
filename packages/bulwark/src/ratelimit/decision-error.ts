/**
 * The HTTP error for a rejected decision, shared by the Express and Fastify adapters (and the
 * gateway): 429 `RATE_LIMITED` for a limit, 429 `CONCURRENCY_LIMITED` for a concurrency limit, 503
 * `RATE_LIMIT_STORE_UNAVAILABLE` when the store could not answer under a fail-closed limit — each
 * with `Retry-After` from the decision's real retry time.
 */
import { ApiError } from '../errors/api-error.js';
import { errors } from '../errors/factories.js';
import { retryAfterSeconds } from './headers.js';
import type { RateLimitDecision } from './types.js';

/**
 * The error to answer with, or `undefined` when the decision allows the request.
 * @param headers the rate-limit header fields to send with it (see `rateLimitHeaders`).
 */
export function rateLimitError(decision: RateLimitDecision, headers: Readonly<Record<string, string>> = {}, kind: 'rate' | 'concurrency' = 'rate'): ApiError | undefined {
  if (decision.allowed) return undefined;
  const seconds = retryAfterSeconds(decision);
  if (decision.reason === 'store_unavailable' || decision.reason === 'circuit_open') {
    const unavailable = errors.storeUnavailable(seconds);
    return new ApiError('RATE_LIMIT_STORE_UNAVAILABLE', { detail: unavailable.detail, headers: { ...headers, ...unavailable.headers } });
  }
  if (kind === 'concurrency') {
    return new ApiError('CONCURRENCY_LIMITED', { detail: `Too many requests in progress; retry in ${seconds} second${seconds === 1 ? '' : 's'}.`, headers: { ...headers, 'retry-after': String(seconds) } });
  }
  return errors.rateLimited(seconds, headers);
}
