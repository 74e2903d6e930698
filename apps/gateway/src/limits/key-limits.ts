import { createRateLimiter, rateLimitHeaders, type RateLimitStore, type RateLimiter } from 'bulwark/ratelimit';
import type { LoggerLike } from 'bulwark/observability';
import type { Registry } from 'prom-client';
import type { LimitDecision } from '../pipeline/rate-limit.js';

/** Distinct key-limit shapes (limit per window) with a limiter of their own. */
const MAX_SHAPES = 1024;

export interface KeyLimitCheck {
  readonly decision: LimitDecision;
  /** The IETF header items of this limit. */
  readonly policy: string;
  readonly item: string;
}

/** The limits API keys carry (`limits: [{ limit, windowMs }]`), enforced by key id. */
export interface KeyLimits {
  check(keyId: string, limits: readonly { readonly limit: number; readonly windowMs: number }[]): Promise<readonly KeyLimitCheck[]>;
  dispose(): void;
}

/**
 * One limiter per limit shape (`key.<limit>.<windowSeconds>`, a bounded metric label), shared by
 * every key with that shape and keyed by key id, on the gateway's rate-limit store. Shapes beyond
 * {@link MAX_SHAPES} are logged and not enforced: the admin API bounds them in practice.
 */
export function createKeyLimits(options: { readonly store: RateLimitStore; readonly registry: Registry; readonly logger: LoggerLike }): KeyLimits {
  const limiters = new Map<string, { limiter: RateLimiter; policy: string }>();
  const limiterFor = (limit: number, windowMs: number): { limiter: RateLimiter; policy: string } | undefined => {
    const name = `key.${limit}.${Math.round(windowMs / 1000)}`;
    let entry = limiters.get(name);
    if (entry === undefined) {
      if (limiters.size >= MAX_SHAPES) {
        options.logger.error({ limit, windowMs, maxShapes: MAX_SHAPES }, 'too many distinct per-key limit shapes: this one is not enforced');
        return undefined;
      }
      const limiter = createRateLimiter({
        name,
        keyPrefix: `gateway.${name}`,
        algorithm: 'sliding-window',
        limit,
        windowMs,
        store: options.store,
        ...(options.store.supportsLocalFallback ? { onStoreFailure: 'local' as const } : {}),
        registry: options.registry,
        logger: options.logger,
      });
      entry = { limiter, policy: rateLimitHeaders({ allowed: true, limit, remaining: limit, resetMs: 0, retryAfterMs: 0, reason: 'ok' }, limiter.policy)['ratelimit-policy'] ?? '' };
      limiters.set(name, entry);
    }
    return entry;
  };
  return {
    async check(keyId, limits) {
      const checks: KeyLimitCheck[] = [];
      for (const { limit, windowMs } of limits) {
        const entry = limiterFor(limit, windowMs);
        if (entry === undefined) continue;
        const decision = await entry.limiter.consume(`key:${keyId}`);
        checks.push({ decision, policy: entry.policy, item: rateLimitHeaders({ ...decision, allowed: true, reason: 'ok' }, entry.limiter.policy).ratelimit ?? '' });
      }
      return checks;
    },
    dispose() {
      for (const { limiter } of limiters.values()) limiter.dispose();
      limiters.clear();
    },
  };
}
