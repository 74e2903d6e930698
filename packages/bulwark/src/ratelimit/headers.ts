/**
 * Response header fields for a rate-limit decision: the IETF `RateLimit-Policy` and `RateLimit`
 * fields, `Retry-After` on rejections, and the legacy `X-RateLimit-*` trio when asked for.
 *
 * `Retry-After` is whole seconds computed from the decision's real `retryAfterMs` (rounded up, at
 * least 1), never from the window: a client told "60" for a GCRA limit that frees a slot in 0.6 s
 * would wait 100 times too long, and one told less than the truth would be rejected again.
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3 (Retry-After)
 */
import { serializeList, type Item } from 'structured-headers';
import type { RateLimitPolicy } from './limiter.js';
import type { NamedDecision } from './multi-limiter.js';
import type { RateLimitDecision } from './types.js';

export interface RateLimitHeaderOptions {
  /** Add `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch seconds, as GitHub does). @default false */
  readonly legacy?: boolean;
  /** Add the IETF `RateLimit-Policy` and `RateLimit` fields. @default true */
  readonly ietf?: boolean;
  /** Clock for `X-RateLimit-Reset`, epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** Whole seconds for a duration in ms, rounded up; 0 stays 0. */
export function secondsUntil(ms: number): number {
  return ms <= 0 ? 0 : Math.ceil(ms / 1000);
}

/** The `Retry-After` value (delta seconds, at least 1) for a rejected decision. */
export function retryAfterSeconds(decision: RateLimitDecision): number {
  return Math.max(1, secondsUntil(decision.retryAfterMs));
}

const policyFields = new WeakMap<object, string>();

/**
 * The header fields for `decision` under `policy` (or the policies of a multi-limit decision, each
 * matched to its own decision by name). Names are lower case.
 *
 * @example
 * const decision = await limiter.consume(key);
 * for (const [name, value] of Object.entries(rateLimitHeaders(decision, limiter.policy))) res.setHeader(name, value);
 * // ratelimit-policy: "api";q=100;w=60
 * // ratelimit: "api";r=0;t=12
 * // retry-after: 1
 */
export function rateLimitHeaders(
  decision: RateLimitDecision & { readonly decisions?: readonly NamedDecision[] },
  policy: RateLimitPolicy | readonly RateLimitPolicy[],
  options: RateLimitHeaderOptions = {},
): Record<string, string> {
  const policies: readonly RateLimitPolicy[] = isPolicyList(policy) ? policy : [policy];
  const headers: Record<string, string> = {};
  if (options.ietf ?? true) {
    headers['ratelimit-policy'] = policyField(policy, policies);
    const items: Item[] = [];
    for (const each of policies) {
      const own = decision.decisions?.find((candidate) => candidate.limiter === each.name) ?? (policies.length === 1 ? decision : undefined);
      if (own !== undefined) items.push([each.name, new Map([['r', Math.max(0, Math.floor(own.remaining))], ['t', secondsUntil(own.resetMs)]])]);
    }
    if (items.length > 0) headers.ratelimit = serializeList(items);
  }
  if (!decision.allowed) headers['retry-after'] = String(retryAfterSeconds(decision));
  if (options.legacy === true) {
    const now = (options.now ?? Date.now)();
    headers['x-ratelimit-limit'] = String(decision.limit);
    headers['x-ratelimit-remaining'] = String(Math.max(0, Math.floor(decision.remaining)));
    headers['x-ratelimit-reset'] = String(Math.ceil((now + decision.resetMs) / 1000));
  }
  return headers;
}

/** The policy field never changes for a policy (list), so it is serialised once. */
function policyField(key: object, policies: readonly RateLimitPolicy[]): string {
  let field = policyFields.get(key);
  if (field === undefined) {
    field = serializeList(policies.map((each): Item => [each.name, new Map([['q', each.limit], ['w', each.windowSeconds]])]));
    policyFields.set(key, field);
  }
  return field;
}

function isPolicyList(policy: RateLimitPolicy | readonly RateLimitPolicy[]): policy is readonly RateLimitPolicy[] {
  return Array.isArray(policy);
}
