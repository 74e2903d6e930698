import { ApiError, errors } from 'bulwark/errors';
import { ipRateLimitKey } from 'bulwark/http';
import type { ResolvedRateLimit } from '../config/resolve.js';
import type { KeyLimitCheck, KeyLimits } from '../limits/key-limits.js';
import type { Stage } from './compiled-route.js';
import type { Exchange } from './exchange.js';

/** The answer of one limit for one key (the shape of bulwark/ratelimit's `RateLimitDecision`). */
export interface LimitDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  readonly resetMs: number;
  readonly retryAfterMs: number;
  /** `store_unavailable` / `circuit_open` with `allowed: false` is a fail-closed limit whose store is down. */
  readonly reason: string;
}

/** One configured limit of a route, bound to its store at start-up. */
export interface RouteLimiter {
  readonly config: ResolvedRateLimit;
  consume(key: string): LimitDecision | Promise<LimitDecision>;
  /** The IETF `RateLimit-Policy` item of this limit (constant), e.g. `"chat";q=10;w=60`. */
  readonly policy: string;
  /** The IETF `RateLimit` item for a decision, e.g. `"chat";r=3;t=42`. */
  item(decision: LimitDecision): string;
}

/**
 * Rate limits by identity, after authentication: each limit of the route is checked with its own
 * key (client IP, API key id, tenant or a header). The most restrictive decision wins and is sent
 * as `RateLimit` / `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers); a refusal is 429 with
 * `Retry-After`, a fail-closed limit whose store is down is 503 with `Retry-After`.
 */
export function createRateLimitStage(limiters: readonly RouteLimiter[]): Stage {
  const policyHeader = limiters.map((limiter) => limiter.policy).join(', ');

  const decide = (exchange: Exchange, decisions: readonly LimitDecision[]): undefined => {
    let tightest: { limiter: RouteLimiter; decision: LimitDecision } | undefined;
    let refused: { limiter: RouteLimiter; decision: LimitDecision } | undefined;
    for (let i = 0; i < decisions.length; i += 1) {
      const decision = decisions[i];
      const limiter = limiters[i];
      if (decision === undefined || limiter === undefined) continue;
      if (!decision.allowed && (refused === undefined || decision.retryAfterMs > refused.decision.retryAfterMs)) refused = { limiter, decision };
      if (tightest === undefined || decision.remaining < tightest.decision.remaining) tightest = { limiter, decision };
    }
    const shown = refused ?? tightest;
    if (shown !== undefined) {
      exchange.addHeader('ratelimit-policy', policyHeader);
      exchange.addHeader('ratelimit', shown.limiter.item(shown.decision));
    }
    if (refused === undefined) return undefined;
    const retryAfterSeconds = Math.max(1, Math.ceil(refused.decision.retryAfterMs / 1000));
    if (refused.decision.reason === 'store_unavailable' || refused.decision.reason === 'circuit_open') throw errors.storeUnavailable(retryAfterSeconds);
    throw errors.rateLimited(retryAfterSeconds);
  };

  return function rateLimit(exchange: Exchange) {
    const pending: (LimitDecision | Promise<LimitDecision>)[] = [];
    let async = false;
    for (const limiter of limiters) {
      const key = keyOf(limiter.config, exchange);
      const decision = limiter.consume(key);
      if (decision instanceof Promise) async = true;
      pending.push(decision);
    }
    if (!async) return decide(exchange, pending as LimitDecision[]);
    return Promise.all(pending).then((decisions) => decide(exchange, decisions));
  };
}

/**
 * The key of a limit for one request. `apiKey` and `tenant` fall back to the next best identity
 * (tenant → key id → IP) so that a request is never unlimited; `header` limits use the header's
 * value, or the IP when it is missing.
 */
export function keyOf(limit: ResolvedRateLimit, exchange: Exchange): string {
  const identity = exchange.identity;
  switch (limit.by) {
    case 'ip':
      return ipKey(exchange);
    case 'apiKey':
      return identity?.keyId === undefined ? ipKey(exchange) : `key:${identity.keyId}`;
    case 'tenant':
      if (identity?.tenant !== undefined) return `tenant:${identity.tenant}`;
      return identity?.keyId === undefined ? ipKey(exchange) : `key:${identity.keyId}`;
    case 'header': {
      const value = limit.header === undefined ? undefined : exchange.request.headers[limit.header];
      const text = typeof value === 'string' ? value : value?.[0];
      if (text === undefined || text === '') return ipKey(exchange);
      if (text.length > 256) throw new ApiError('HEADER_INVALID', { detail: `The ${limit.header ?? ''} header is too long.` });
      return `header:${text}`;
    }
  }
}

/** IPv4 addresses as they are, IPv6 grouped by /56 (one subscriber), so rotating addresses does not help. */
function ipKey(exchange: Exchange): string {
  return `ip:${ipRateLimitKey(exchange.clientIp)}`;
}

/**
 * The limits an API key carries itself (on top of the route's), checked by key id. Requests without
 * key limits pass at once, allocation-free.
 */
export function createKeyLimitStage(keyLimits: KeyLimits): Stage {
  const decide = (exchange: Exchange, checks: readonly KeyLimitCheck[]): undefined => {
    let refused: KeyLimitCheck | undefined;
    for (const check of checks) {
      exchange.addHeader('ratelimit-policy', check.policy);
      exchange.addHeader('ratelimit', check.item);
      if (!check.decision.allowed && (refused === undefined || check.decision.retryAfterMs > refused.decision.retryAfterMs)) refused = check;
    }
    if (refused === undefined) return undefined;
    const retryAfterSeconds = Math.max(1, Math.ceil(refused.decision.retryAfterMs / 1000));
    if (refused.decision.reason === 'store_unavailable' || refused.decision.reason === 'circuit_open') throw errors.storeUnavailable(retryAfterSeconds);
    throw errors.rateLimited(retryAfterSeconds);
  };
  return function keyLimitStage(exchange: Exchange) {
    const identity = exchange.identity;
    if (identity?.limits === undefined || identity.keyId === undefined) return undefined;
    return keyLimits.check(identity.keyId, identity.limits).then((checks) => decide(exchange, checks));
  };
}
