/**
 * `createRateLimiter`: one limit (GCRA, sliding-window counter or fixed window) on one store, with
 * the local block cache, shadow mode, metrics and failure logging around the store call.
 */
import type { Registry } from 'prom-client';
import { defaultMetricsRegistry } from '../observability/metrics-registry.js';
import { silentLogger, type LoggerLike } from '../observability/logger-like.js';
import { decision } from './algorithm.js';
import { BlockCache, DEFAULT_BLOCK_CACHE_SIZE } from './block-cache.js';
import { normalizeKey } from './key-normalization.js';
import {
  algorithmOption,
  buildDefinition,
  failurePolicyOption,
  integerOption,
  MAX_BURST_FACTOR,
  MAX_EXPECTED_INSTANCES,
  MAX_LIMIT,
  MAX_WINDOW_MS,
  nameOption,
  storeOption,
} from './limit-definition.js';
import { LimiterCounters, rateLimitMetrics } from './metrics.js';
import type { LimitDefinition, RateLimitAlgorithm, RateLimitDecision, RateLimitStore, StoreFailurePolicy } from './types.js';
import { capacityOf } from './unavailable.js';
import { rejectUnknownOptions } from './options.js';

export interface RateLimiterOptions {
  /** The limiter's name: metrics label, logs, and the default key prefix. 1–64 of `[A-Za-z0-9_.-]`. */
  readonly name: string;
  /** @default 'gcra' */
  readonly algorithm?: RateLimitAlgorithm;
  /** Requests per window, 1…100,000,000 (GCRA: at most 1,000 per millisecond of window). */
  readonly limit: number;
  /** The window in milliseconds, 1…86,400,000 (one day). */
  readonly windowMs: number;
  /** GCRA only: the bucket capacity, the most requests allowed at once, 1…10 × limit. @default limit */
  readonly burst?: number;
  readonly store: RateLimitStore;
  /**
   * What happens when the store is unavailable: `local` (enforce on the bounded local store),
   * `closed` (reject: 503 with Retry-After) or `open` (allow, counted and logged).
   * @default 'local' on a resilient store, else 'closed'
   */
  readonly onStoreFailure?: StoreFailurePolicy;
  /** Instances sharing the load: the local fallback enforces limit / expectedInstances. 1…10,000. @default 1 */
  readonly expectedInstances?: number;
  /** Decide and count, but allow (reason `shadow` where it would have rejected). @default false */
  readonly shadow?: boolean;
  /** The limiter's namespace in the store; two live limiters cannot share one. @default name */
  readonly keyPrefix?: string;
  /**
   * Reject keys known to be over the limit in-process, without a store call, until their retry time.
   * Off for in-process stores and in shadow mode, where it would save nothing.
   * @default { maxSize: 10_000 } on a remote store
   */
  readonly blockCache?: boolean | { readonly maxSize?: number };
  /** Clock of the block cache, epoch ms. @default Date.now */
  readonly now?: () => number;
  readonly logger?: LoggerLike;
  /** @default defaultMetricsRegistry() */
  readonly registry?: Registry;
}

/** A limit as the IETF `RateLimit-Policy` field describes it. */
export interface RateLimitPolicy {
  /** The policy name in the header fields (the limiter's name). */
  readonly name: string;
  /** Quota units per window. */
  readonly limit: number;
  readonly windowSeconds: number;
}

export interface RateLimiter {
  readonly name: string;
  readonly definition: LimitDefinition;
  readonly policy: RateLimitPolicy;
  readonly store: RateLimitStore;
  readonly shadow: boolean;
  /**
   * Counts `cost` units for `key` and decides. Never rejects for an unavailable store (the
   * decision's `reason` says what happened).
   * @throws TypeError for a cost that is not an integer between 0 and the capacity.
   */
  consume(key: string, cost?: number): Promise<RateLimitDecision>;
  /** The state of `key` without counting anything (cost 0: `allowed` is always true; read `remaining`). */
  peek(key: string): Promise<RateLimitDecision>;
  /** Forgets `key`. Rejects when the store cannot be reached (the only call that does). */
  reset(key: string): Promise<void>;
  /** Frees the key prefix and stops the metrics; later calls throw. */
  dispose(): void;
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set(['name', 'algorithm', 'limit', 'windowMs', 'burst', 'store', 'onStoreFailure', 'expectedInstances', 'shadow', 'keyPrefix', 'blockCache', 'now', 'logger', 'registry']);

/**
 * Creates a rate limiter.
 *
 * @throws TypeError naming the first invalid option, or when the key prefix is already used by
 *   another live limiter on the same store.
 * @example
 * const limiter = createRateLimiter({ name: 'api', algorithm: 'gcra', limit: 100, windowMs: 60_000, burst: 20, store });
 * const decision = await limiter.consume(`ip:${clientIp}`);
 * if (!decision.allowed) throw errors.rateLimited(Math.ceil(decision.retryAfterMs / 1000));
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  rejectUnknownOptions(options, KNOWN_OPTIONS);
  const name = nameOption('name', options.name);
  const algorithm = algorithmOption(options.algorithm ?? 'gcra');
  const limit = integerOption('limit', options.limit, 1, MAX_LIMIT);
  const windowMs = integerOption('windowMs', options.windowMs, 1, MAX_WINDOW_MS);
  if (options.burst !== undefined && algorithm !== 'gcra') throw new TypeError(`burst applies to the gcra algorithm only, not ${algorithm}`);
  // A bucket larger than ten windows' worth would take more than ten windows to refill: a sign the
  // window is wrong, and it keeps every duration a decision reports below 2^30 ms.
  const burst = options.burst === undefined ? limit : integerOption('burst', options.burst, 1, Math.min(MAX_LIMIT, limit * MAX_BURST_FACTOR));
  const store = storeOption(options.store);
  const onStoreFailure = failurePolicyOption(options.onStoreFailure, store);
  const expectedInstances = integerOption('expectedInstances', options.expectedInstances ?? 1, 1, MAX_EXPECTED_INSTANCES);
  if (options.shadow !== undefined && typeof options.shadow !== 'boolean') throw new TypeError('shadow must be a boolean');
  const shadow = options.shadow ?? false;
  const prefix = nameOption('keyPrefix', options.keyPrefix ?? name);
  const blockCache = blockCacheOption(options.blockCache, store, shadow);
  if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('now must be a function returning epoch milliseconds');
  const definition = buildDefinition({ name, prefix, algorithm, limit, windowMs, burst, onStoreFailure, blocking: !shadow, expectedInstances });
  const releasePrefix = store.claimPrefix(prefix, name);
  return new Limiter(definition, store, shadow, blockCache, options.now ?? Date.now, options.logger ?? silentLogger, options.registry ?? defaultMetricsRegistry(), releasePrefix);
}

function blockCacheOption(value: RateLimiterOptions['blockCache'], store: RateLimitStore, shadow: boolean): BlockCache | undefined {
  if (value === false || shadow) return undefined;
  if (value === undefined || value === true) return store.inProcess && value !== true ? undefined : new BlockCache(DEFAULT_BLOCK_CACHE_SIZE);
  if (typeof value !== 'object' || value === null) throw new TypeError('blockCache must be a boolean or { maxSize }');
  return new BlockCache(integerOption('blockCache.maxSize', value.maxSize ?? DEFAULT_BLOCK_CACHE_SIZE, 1, 10_000_000));
}

/** The implementation; the multi-limiter reaches its block cache and bookkeeping. */
export class Limiter implements RateLimiter {
  readonly name: string;
  readonly policy: RateLimitPolicy;
  readonly counters: LimiterCounters;
  /** The store answers with values, not promises. */
  private readonly synchronous: boolean;
  private readonly unregisterMetrics: () => void;
  private degraded = false;
  private disposed = false;

  constructor(
    readonly definition: LimitDefinition,
    readonly store: RateLimitStore,
    readonly shadow: boolean,
    readonly blockCache: BlockCache | undefined,
    readonly now: () => number,
    private readonly logger: LoggerLike,
    registry: Registry,
    private readonly releasePrefix: () => void,
  ) {
    this.name = definition.name;
    this.policy = Object.freeze({ name: definition.name, limit: capacityOf(definition), windowSeconds: Math.max(1, Math.round(definition.windowMs / 1000)) });
    this.counters = new LimiterCounters(definition.name, definition.prefix);
    this.synchronous = store.inProcess;
    this.unregisterMetrics = rateLimitMetrics(registry).registerLimiter(this.counters);
  }

  consume(key: string, cost = 1): Promise<RateLimitDecision> {
    if (cost !== 1 || this.disposed) this.assertUsable(cost);
    const storeKey = normalizeKey(key);
    if (this.blockCache !== undefined && cost > 0) {
      const blocked = this.blockCache.check(storeKey, cost, this.now());
      if (blocked !== undefined) {
        this.counters.blockHits += 1;
        this.counters.record(blocked);
        return Promise.resolve(blocked);
      }
    }
    const result = this.store.consume(this.definition, storeKey, cost);
    // In-process stores answer synchronously (one check of a flag beats `instanceof` per call).
    if (this.synchronous) return Promise.resolve(this.settle(storeKey, cost, result as RateLimitDecision));
    return Promise.resolve(result).then((answer) => this.settle(storeKey, cost, answer));
  }

  peek(key: string): Promise<RateLimitDecision> {
    return this.consume(key, 0);
  }

  async reset(key: string): Promise<void> {
    this.assertUsable(0);
    const storeKey = normalizeKey(key);
    this.blockCache?.forget(storeKey);
    await this.store.reset(this.definition, storeKey);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.releasePrefix();
    this.unregisterMetrics();
  }

  /** Throws for a disposed limiter or a cost outside 0…capacity (programming errors). */
  assertUsable(cost: number): void {
    if (this.disposed) throw new Error(`rate limiter "${this.name}" was used after dispose()`);
    if (!Number.isInteger(cost) || cost < 0 || cost > capacityOf(this.definition)) {
      throw new TypeError(`cost must be an integer between 0 and ${capacityOf(this.definition)} (the capacity of limiter "${this.name}"), got ${String(cost)}`);
    }
  }

  /** Applies the block cache, shadow mode, metrics and failure logging to a store decision. */
  settle(storeKey: string, cost: number, answer: RateLimitDecision): RateLimitDecision {
    if (answer.reason === 'ok' && !this.degraded) {
      // The common case, kept short: allowed by a healthy store.
      this.counters.requests += 1;
      this.counters.ok += 1;
      return answer;
    }
    let result = answer;
    if (!result.allowed) {
      if (this.blockCache !== undefined && cost > 0 && (result.reason === 'limited' || result.reason === 'fallback')) this.blockCache.block(storeKey, cost, this.now(), result);
      if (this.shadow) result = decision(true, result.limit, result.remaining, result.resetMs, 0, 'shadow');
    }
    this.counters.record(result);
    this.noteStoreHealth(answer);
    return result;
  }

  private noteStoreHealth(answer: RateLimitDecision): void {
    const degraded = answer.reason === 'fallback' || answer.reason === 'store_unavailable' || answer.reason === 'circuit_open';
    if (degraded === this.degraded) return;
    this.degraded = degraded;
    const policy = this.definition.onStoreFailure;
    if (degraded) this.logger.warn({ limiter: this.name, reason: answer.reason, onStoreFailure: policy }, `rate limiter "${this.name}": store unavailable (${answer.reason}); ${policy === 'local' ? 'enforcing on the local fallback' : policy === 'open' ? 'allowing requests (fail open)' : 'rejecting requests (fail closed)'}`);
    else this.logger.info({ limiter: this.name }, `rate limiter "${this.name}": store available again`);
  }
}
