/**
 * Ready-made tiers for the usual kinds of route, and a helper that creates one limiter per tier.
 * The numbers are starting points for a public API; tune them to your traffic.
 */
import { createRateLimiter, type RateLimiter, type RateLimiterOptions } from './limiter.js';
import type { RateLimitAlgorithm, RateLimitStore, StoreFailurePolicy } from './types.js';

export interface TierLimit {
  readonly limit: number;
  readonly windowMs: number;
  readonly algorithm?: RateLimitAlgorithm;
  readonly burst?: number;
  readonly onStoreFailure?: StoreFailurePolicy;
  readonly shadow?: boolean;
}

/** general 100 per 15 min, chat 10 per min, webhooks 100 per min, analytics 20 per 5 min. */
export const RATE_LIMIT_TIERS = Object.freeze({
  general: Object.freeze({ limit: 100, windowMs: 15 * 60_000 }),
  chat: Object.freeze({ limit: 10, windowMs: 60_000 }),
  webhooks: Object.freeze({ limit: 100, windowMs: 60_000 }),
  analytics: Object.freeze({ limit: 20, windowMs: 5 * 60_000 }),
} satisfies Record<string, TierLimit>);

export interface TieredLimitersOptions<T extends string> {
  readonly store: RateLimitStore;
  /** @default RATE_LIMIT_TIERS */
  readonly tiers?: Readonly<Record<T, TierLimit>>;
  /** Prepended to each tier name to form the limiter name. @default 'tier.' */
  readonly namePrefix?: string;
  /** Defaults for every tier (each tier's own settings win). */
  readonly defaults?: Partial<Pick<RateLimiterOptions, 'algorithm' | 'onStoreFailure' | 'expectedInstances' | 'shadow' | 'blockCache' | 'logger' | 'registry'>>;
}

/**
 * One limiter per tier, named `<namePrefix><tier>`.
 *
 * @example
 * const tiers = createTieredLimiters({ store });
 * app.use('/chat', rateLimit({ limiter: tiers.chat, key: keyBy.ip() }));
 */
export function createTieredLimiters<T extends string = keyof typeof RATE_LIMIT_TIERS>(options: TieredLimitersOptions<T>): Record<T, RateLimiter> {
  const tiers = (options.tiers ?? RATE_LIMIT_TIERS) as Readonly<Record<T, TierLimit>>;
  const prefix = options.namePrefix ?? 'tier.';
  const limiters = {} as Record<T, RateLimiter>;
  const created: RateLimiter[] = [];
  try {
    for (const tier of Object.keys(tiers) as T[]) {
      const limiter = createRateLimiter({ algorithm: 'sliding-window', ...options.defaults, ...tiers[tier], name: `${prefix}${tier}`, store: options.store });
      created.push(limiter);
      limiters[tier] = limiter;
    }
  } catch (error) {
    for (const limiter of created) limiter.dispose();
    throw error;
  }
  return limiters;
}
