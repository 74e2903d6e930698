/**
 * Several limits on one identity, decided together: one store call (one Lua script on Redis), and
 * nothing is consumed unless every (non-shadow) limit allows. Typical: 10 per second and 1,000 per
 * hour per API key.
 */
import { decision } from './algorithm.js';
import { normalizeKey } from './key-normalization.js';
import { Limiter, type RateLimiter } from './limiter.js';
import type { LimitRequest, RateLimitDecision, RateLimitStore } from './types.js';

/** One limit's part of a multi-limit decision. */
export interface NamedDecision extends RateLimitDecision {
  readonly limiter: string;
}

/**
 * The combined decision: the fields of the decisive limit (the rejecting one that waits longest, or
 * when all allow, the one with the least remaining), plus each evaluated limit's own decision.
 * When the block cache rejects, only the blocked limit is listed (the store was not asked).
 */
export interface MultiDecision extends RateLimitDecision {
  /** The name of the decisive limiter. */
  readonly limiter: string;
  readonly decisions: readonly NamedDecision[];
}

export interface MultiLimiter {
  readonly limiters: readonly RateLimiter[];
  /** Counts `cost` against every limit for `key`, all or nothing. */
  consume(key: string, cost?: number): Promise<MultiDecision>;
  /** Every limit's state without counting. */
  peek(key: string): Promise<MultiDecision>;
}

/**
 * Combines limiters that share one store.
 *
 * @throws TypeError when the list is empty, holds a limiter twice, or the limiters use different stores.
 * @example
 * const perKey = createMultiLimiter([perSecond, perHour]);
 * const result = await perKey.consume(apiKeyId);
 * if (!result.allowed) reply(429, rateLimitHeaders(result, [perSecond.policy, perHour.policy]));
 */
export function createMultiLimiter(limiters: readonly RateLimiter[]): MultiLimiter {
  if (!Array.isArray(limiters) || limiters.length === 0) throw new TypeError('limiters must be a non-empty array of rate limiters');
  const internals: Limiter[] = [];
  for (const limiter of limiters) {
    if (!(limiter instanceof Limiter)) throw new TypeError('limiters must be created by createRateLimiter');
    if (internals.includes(limiter)) throw new TypeError(`limiter "${limiter.name}" appears twice`);
    internals.push(limiter);
  }
  const store = internals[0]?.store as RateLimitStore;
  for (const limiter of internals) {
    if (limiter.store !== store) throw new TypeError(`limiter "${limiter.name}" uses another store: the limits of one multi-limit decision must share a store`);
  }
  const frozen = Object.freeze([...limiters]);
  return {
    limiters: frozen,
    consume: (key, cost = 1) => consumeTogether(internals, store, key, cost),
    peek: (key) => consumeTogether(internals, store, key, 0),
  };
}

/**
 * One-off form of {@link createMultiLimiter}: decides `limiters` together for `key`.
 *
 * @example
 * const result = await consumeAll([perSecond, perHour], apiKeyId);
 */
export function consumeAll(limiters: readonly RateLimiter[], key: string, cost = 1): Promise<MultiDecision> {
  return createMultiLimiter(limiters).consume(key, cost);
}

function consumeTogether(limiters: readonly Limiter[], store: RateLimitStore, key: string, cost: number): Promise<MultiDecision> {
  for (const limiter of limiters) limiter.assertUsable(cost);
  const storeKey = normalizeKey(key);
  if (cost > 0) {
    for (const limiter of limiters) {
      if (limiter.shadow || limiter.blockCache === undefined) continue;
      const blocked = limiter.blockCache.check(storeKey, cost, limiter.now());
      if (blocked === undefined) continue;
      limiter.counters.blockHits += 1;
      limiter.counters.record(blocked);
      const named = { ...blocked, limiter: limiter.name };
      return Promise.resolve({ ...named, decisions: [named] });
    }
  }
  const requests: LimitRequest[] = limiters.map((limiter) => ({ limit: limiter.definition, key: storeKey, cost }));
  const answer = store.consumeAll(requests);
  const finish = (decisions: readonly RateLimitDecision[]): MultiDecision => combine(limiters, storeKey, cost, decisions);
  return answer instanceof Promise ? answer.then(finish) : Promise.resolve(finish(answer));
}

function combine(limiters: readonly Limiter[], storeKey: string, cost: number, raw: readonly RateLimitDecision[]): MultiDecision {
  const committed = limiters.every((limiter, index) => !limiter.definition.blocking || raw[index]?.allowed === true);
  const decisions: NamedDecision[] = [];
  let decisive: NamedDecision | undefined;
  limiters.forEach((limiter, index) => {
    const answer = raw[index];
    if (answer === undefined) return;
    // A limit that allowed but was not consumed (another rejected) still has its units.
    const unconsumed = !committed && answer.allowed && cost > 0 && answer.reason === 'ok';
    const own = unconsumed ? decision(true, answer.limit, Math.min(answer.limit, answer.remaining + cost), answer.resetMs, 0, 'ok') : answer;
    const settled = limiter.settle(storeKey, cost, own);
    const named: NamedDecision = { ...settled, limiter: limiter.name };
    decisions.push(named);
    if (decisive === undefined || moreRestrictive(named, decisive)) decisive = named;
  });
  if (decisive === undefined) throw new Error('the store returned no decision');
  return { ...decisive, decisions };
}

function moreRestrictive(candidate: RateLimitDecision, current: RateLimitDecision): boolean {
  if (candidate.allowed !== current.allowed) return !candidate.allowed;
  if (!candidate.allowed) return candidate.retryAfterMs > current.retryAfterMs;
  if (candidate.remaining !== current.remaining) return candidate.remaining < current.remaining;
  return candidate.resetMs > current.resetMs;
}
