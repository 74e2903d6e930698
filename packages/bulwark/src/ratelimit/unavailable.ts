/**
 * The decision for a limit whose store could not answer, by the limit's `onStoreFailure`. The
 * resilient store handles `local` itself; a plain Redis store has no local store, so for it `local`
 * behaves like `closed` (limiter factories refuse that combination up front).
 */
import { decision } from './algorithm.js';
import type { LimitDefinition, RateLimitDecision } from './types.js';

/** How long a caller rejected for an unavailable store is told to wait when nothing better is known. */
export const UNAVAILABLE_RETRY_MS = 1000;

/** The quota a decision reports for `limit`: the bucket capacity for GCRA, else the limit. */
export function capacityOf(limit: LimitDefinition): number {
  return limit.algorithm === 'gcra' ? limit.burst : limit.limit;
}

export function unavailableDecision(limit: LimitDefinition, reason: 'store_unavailable' | 'circuit_open', retryAfterMs = UNAVAILABLE_RETRY_MS): RateLimitDecision {
  const capacity = capacityOf(limit);
  if (limit.onStoreFailure === 'open') return decision(true, capacity, capacity, 0, 0, reason);
  const wait = Math.max(1, Math.ceil(retryAfterMs));
  return decision(false, capacity, 0, wait, wait, reason);
}
