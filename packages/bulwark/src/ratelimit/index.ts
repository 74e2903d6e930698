/**
 * Rate limiting: GCRA, sliding-window counter, fixed window and concurrency leases, on a bounded
 * memory store, on Redis (one Lua script per decision, Cluster-safe) or on Redis behind a breaker
 * per node with a bounded local fallback. Decisions say why they were made. See docs/ratelimit.md.
 */
export type {
  RateLimitDecision,
  RateLimitReason,
  RateLimitAlgorithm,
  StoreAlgorithm,
  StoreFailurePolicy,
  LimitDefinition,
  LimitRequest,
  LeaseHandle,
  LeaseResult,
  MaybePromise,
  RateLimitStore,
} from './types.js';
export { RATE_LIMIT_REASONS } from './types.js';
export { createRateLimiter } from './limiter.js';
export type { RateLimiter, RateLimiterOptions, RateLimitPolicy } from './limiter.js';
export { createMultiLimiter, consumeAll } from './multi-limiter.js';
export type { MultiLimiter, MultiDecision, NamedDecision } from './multi-limiter.js';
export { createConcurrencyLimiter } from './concurrency-limiter.js';
export type { ConcurrencyLimiter, ConcurrencyLimiterOptions, ConcurrencyLease } from './concurrency-limiter.js';
export { createMemoryStore, DEFAULT_MEMORY_STORE_MAX_SIZE } from './memory-store.js';
export type { MemoryRateLimitStore, MemoryStoreOptions, MemoryStoreStats } from './memory-store.js';
export { createRedisStore, RATE_LIMIT_REDIS_OPTIONS, StoreFailure } from './redis-store.js';
export type { RedisRateLimitStore, RedisStoreOptions, StoreFailureKind } from './redis-store.js';
export { createResilientStore } from './resilient-store.js';
export type { ResilientRateLimitStore, ResilientStoreOptions, ResilientStoreStats, NodeRoute } from './resilient-store.js';
export { rateLimitHeaders, retryAfterSeconds } from './headers.js';
export type { RateLimitHeaderOptions } from './headers.js';
export { rateLimitError } from './decision-error.js';
export { keyBy } from './keys.js';
export type { KeyContext, KeySource } from './keys.js';
export { checkRateLimit, setDefaultRateLimitStore, resetCheckRateLimit } from './check.js';
export type { CheckRateLimitOptions } from './check.js';
export { RATE_LIMIT_TIERS, createTieredLimiters } from './tiers.js';
export type { TierLimit, TieredLimitersOptions } from './tiers.js';
export { DECISION_RESULTS } from './metrics.js';
export type { DecisionResult } from './metrics.js';
export { normalizeKey, MAX_PLAIN_KEY_LENGTH } from './key-normalization.js';
