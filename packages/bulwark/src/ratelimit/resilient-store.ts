/**
 * Redis behind a circuit breaker per Redis node, with a bounded local store for limits declared
 * `onStoreFailure: 'local'`.
 *
 * - One breaker per node (on Redis Cluster, per master owning the key's slot): a failed master
 *   degrades only the keys in its slots, not every tenant.
 * - Hysteresis: once a node's breaker opens, its keys stay on the fallback for at least
 *   `minFallbackMs`, then return only through the breaker's half-open probes, so a flapping Redis
 *   cannot make decisions thrash between two sets of counters.
 * - No double counting of an answered call: each request is counted by exactly one store — Redis
 *   when its call succeeded, else the fallback. A call that timed out may still have run on Redis:
 *   it is then counted on both, and the fallback's answer is the one given — which may ALLOW a
 *   request Redis refused (the local share knows nothing of Redis's count). A timeout is therefore
 *   only declared for a reply Redis really did not send in time: the deadline is judged after the
 *   event loop has read what already arrived (redis-script-runner.ts), so a process too busy to run
 *   its timer on time never mistakes its own lateness for a slow Redis.
 * - Local counts are not copied back to Redis on recovery: Redis resumes from what it had. The
 *   window after recovery may therefore allow up to the local plus the Redis quota for that window.
 */
import type { Registry } from 'prom-client';
import { defaultMetricsRegistry } from '../observability/metrics-registry.js';
import { silentLogger, type LoggerLike } from '../observability/logger-like.js';
import { createBreakerRegistry, type BreakerRegistry, type CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from '../resilience/index.js';
import { decision } from './algorithm.js';
import { integerOption, nameOption } from './limit-definition.js';
import { createMemoryStore, type MemoryRateLimitStore, type MemoryStoreStats } from './memory-store.js';
import { rateLimitMetrics, type RateLimitMetrics } from './metrics.js';
import { rejectUnknownOptions } from './options.js';
import { StoreFailure, type RedisRateLimitStore } from './redis-store.js';
import type { LeaseHandle, LeaseResult, LimitDefinition, LimitRequest, RateLimitDecision, RateLimitStore } from './types.js';
import { unavailableDecision } from './unavailable.js';

export interface ResilientStoreOptions {
  /** The shared store. */
  readonly redis: RedisRateLimitStore;
  /** The bounded local fallback. @default createMemoryStore({ name: 'ratelimit-fallback', maxSize: 100_000 }) */
  readonly local?: MemoryRateLimitStore;
  /**
   * Breakers by node key (`<store name>:<host:port>`). @default a registry of 1,024 breakers with
   * service `ratelimit-redis`, 5 consecutive failures, 5 s reset timeout, 1 half-open probe
   */
  readonly breakers?: BreakerRegistry;
  /** Overrides of the default breakers' options (ignored when `breakers` is given). */
  readonly breaker?: Partial<Omit<CircuitBreakerOptions, 'name' | 'registry' | 'logger'>>;
  /** The least time a node's keys stay on the fallback once its breaker opened, 0…3,600,000 ms. @default 10_000 */
  readonly minFallbackMs?: number;
  /** @default 'resilient' */
  readonly name?: string;
  /** Monotonic clock in ms, for the hysteresis. @default performance.now */
  readonly now?: () => number;
  readonly logger?: LoggerLike;
  readonly registry?: Registry;
}

/** Where one node's keys are decided, for /health/summary. */
export interface NodeRoute {
  readonly node: string;
  readonly route: 'redis' | 'fallback';
  readonly breaker: CircuitState;
  /** Milliseconds on the fallback so far (0 on Redis). */
  readonly fallbackForMs: number;
}

export interface ResilientStoreStats {
  readonly name: string;
  readonly nodes: readonly NodeRoute[];
  readonly local: MemoryStoreStats;
}

export interface ResilientRateLimitStore extends RateLimitStore {
  readonly redis: RedisRateLimitStore;
  readonly local: MemoryRateLimitStore;
  stats(): ResilientStoreStats;
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set(['redis', 'local', 'breakers', 'breaker', 'minFallbackMs', 'name', 'now', 'logger', 'registry']);

/**
 * Creates the resilient store.
 *
 * @example
 * const store = createResilientStore({ redis: createRedisStore({ client }), minFallbackMs: 10_000 });
 * const api = createRateLimiter({ name: 'api', limit: 100, windowMs: 60_000, store, onStoreFailure: 'local', expectedInstances: 4 });
 */
export function createResilientStore(options: ResilientStoreOptions): ResilientRateLimitStore {
  rejectUnknownOptions(options, KNOWN_OPTIONS);
  const redis = options.redis;
  if (typeof redis !== 'object' || redis === null || typeof redis.attempt !== 'function') throw new TypeError('redis must be a store created by createRedisStore');
  const logger = options.logger ?? silentLogger;
  const registry = options.registry ?? defaultMetricsRegistry();
  const local = options.local ?? createMemoryStore({ name: 'ratelimit-fallback', maxSize: 100_000, logger, registry });
  if (typeof local !== 'object' || local === null || typeof local.stats !== 'function' || !local.inProcess) throw new TypeError('local must be a store created by createMemoryStore');
  const minFallbackMs = integerOption('minFallbackMs', options.minFallbackMs ?? 10_000, 0, 3_600_000);
  const name = nameOption('name', options.name ?? 'resilient');
  const now = options.now ?? (() => performance.now());
  if (typeof now !== 'function') throw new TypeError('now must be a function returning milliseconds');
  const breakers =
    options.breakers ??
    createBreakerRegistry({
      maxSize: 1024,
      defaults: { service: 'ratelimit-redis', failureThreshold: 5, resetTimeoutMs: 5000, halfOpenRequests: 1, ...(options.breaker ?? {}), ...(options.now === undefined ? {} : { now }) },
      registry,
      logger,
    });
  return new ResilientStore(redis, local, breakers, minFallbackMs, name, now, logger, rateLimitMetrics(registry));
}

interface NodeState {
  readonly breaker: CircuitBreaker;
  /** When the node's keys moved to the fallback; undefined while on Redis. */
  fallbackSince: number | undefined;
}

class ResilientStore implements ResilientRateLimitStore {
  readonly supportsLocalFallback = true;
  readonly inProcess = false;
  private readonly nodes = new Map<string, NodeState>();

  constructor(
    readonly redis: RedisRateLimitStore,
    readonly local: MemoryRateLimitStore,
    private readonly breakers: BreakerRegistry,
    private readonly minFallbackMs: number,
    readonly name: string,
    private readonly now: () => number,
    private readonly logger: LoggerLike,
    private readonly metrics: RateLimitMetrics,
  ) {}

  consume(limit: LimitDefinition, key: string, cost: number): Promise<RateLimitDecision> {
    return this.guarded(
      key,
      () => this.redis.attempt(limit, key, cost),
      (reason, retryAfterMs) => this.degraded(limit, key, cost, reason, retryAfterMs),
    );
  }

  consumeAll(requests: readonly LimitRequest[]): Promise<readonly RateLimitDecision[]> {
    const key = requests[0]?.key;
    if (key === undefined) return Promise.resolve([]);
    return this.guarded(
      key,
      () => this.redis.attemptAll(requests),
      (reason, retryAfterMs) => this.degradedAll(requests, reason, retryAfterMs),
    );
  }

  acquireLease(limit: LimitDefinition, key: string, cost: number): Promise<LeaseResult> {
    return this.guarded(
      key,
      () => this.redis.attemptLease(limit, key, cost),
      (reason, retryAfterMs): LeaseResult => {
        if (limit.onStoreFailure !== 'local') return { decision: unavailableDecision(limit, reason, retryAfterMs), handle: undefined };
        const result = this.local.acquireLease(limit.local ?? limit, key, cost);
        return { decision: asFallback(result.decision), handle: result.handle === undefined ? undefined : { ...result.handle, source: 'local' } };
      },
    );
  }

  async releaseLease(handle: LeaseHandle): Promise<void> {
    if (handle.source === 'local') {
      await this.local.releaseLease(handle);
      return;
    }
    // Not worth a probe: with the breaker open the lease simply expires with its TTL.
    const state = this.nodeState(this.redis.nodeFor(handle.key));
    const permit = state.breaker.tryAcquire();
    if (permit === 0) return;
    const started = this.now();
    const result = await this.redis.attemptRelease(handle);
    state.breaker.release(permit, result instanceof StoreFailure ? 'failure' : 'success', this.now() - started);
  }

  async reset(limit: LimitDefinition, key: string): Promise<void> {
    await this.local.reset(limit.local ?? limit, key);
    await this.redis.reset(limit, key);
  }

  claimPrefix(prefix: string, owner: string): () => void {
    const releaseRedis = this.redis.claimPrefix(prefix, owner);
    try {
      const releaseLocal = this.local.claimPrefix(prefix, owner);
      return () => {
        releaseRedis();
        releaseLocal();
      };
    } catch (error) {
      releaseRedis();
      throw error;
    }
  }

  stats(): ResilientStoreStats {
    const at = this.now();
    const nodes: NodeRoute[] = [];
    for (const [node, state] of this.nodes) {
      nodes.push({ node, route: state.fallbackSince === undefined ? 'redis' : 'fallback', breaker: state.breaker.state, fallbackForMs: state.fallbackSince === undefined ? 0 : at - state.fallbackSince });
    }
    return { name: this.name, nodes, local: this.local.stats() };
  }

  /**
   * Runs `call` on Redis if the node's route and breaker allow it, and otherwise (or when it fails)
   * answers with `degrade`. Never rejects.
   */
  private guarded<T>(key: string, call: () => Promise<T | StoreFailure>, degrade: (reason: 'store_unavailable' | 'circuit_open', retryAfterMs: number) => T): Promise<T> {
    const node = this.redis.nodeFor(key);
    const state = this.nodeState(node);
    const at = this.now();
    if (state.fallbackSince !== undefined && at - state.fallbackSince < this.minFallbackMs) {
      // Not the hysteresis' rest alone: a breaker still open longer would refuse the caller again.
      return Promise.resolve(degrade('circuit_open', this.openRetryMs(state)));
    }
    const permit = state.breaker.tryAcquire();
    if (permit === 0) {
      this.enterFallback(node, state, at);
      return Promise.resolve(degrade('circuit_open', this.openRetryMs(state)));
    }
    return call().then((result) => {
      const finished = this.now();
      if (result instanceof StoreFailure) {
        state.breaker.release(permit, 'failure', finished - at);
        if (state.breaker.state === 'open') this.enterFallback(node, state, finished);
        return degrade('store_unavailable', this.openRetryMs(state));
      }
      state.breaker.release(permit, 'success', finished - at);
      if (state.fallbackSince !== undefined && state.breaker.state === 'closed') this.leaveFallback(node, state, finished);
      return result;
    });
  }

  private degraded(limit: LimitDefinition, key: string, cost: number, reason: 'store_unavailable' | 'circuit_open', retryAfterMs: number): RateLimitDecision {
    if (limit.onStoreFailure !== 'local') return unavailableDecision(limit, reason, retryAfterMs);
    return asFallback(this.local.consume(limit.local ?? limit, key, cost));
  }

  private degradedAll(requests: readonly LimitRequest[], reason: 'store_unavailable' | 'circuit_open', retryAfterMs: number): readonly RateLimitDecision[] {
    // A blocking limit that fails closed rejects the whole check, so the local limits only look.
    const rejected = requests.some(({ limit }) => limit.blocking && limit.onStoreFailure === 'closed');
    const locals = requests.filter(({ limit }) => limit.onStoreFailure === 'local').map(({ limit, key, cost }) => ({ limit: limit.local ?? limit, key, cost: rejected ? 0 : cost }));
    const localDecisions = locals.length === 0 ? [] : this.local.consumeAll(locals);
    let next = 0;
    return requests.map(({ limit }) => {
      if (limit.onStoreFailure !== 'local') return unavailableDecision(limit, reason, retryAfterMs);
      const local = localDecisions[next];
      next += 1;
      return local === undefined ? unavailableDecision(limit, reason, retryAfterMs) : asFallback(local);
    });
  }

  private nodeState(node: string): NodeState {
    let state = this.nodes.get(node);
    if (state === undefined) {
      state = { breaker: this.breakers.get(`${this.redis.name}:${node}`), fallbackSince: undefined };
      this.nodes.set(node, state);
    }
    return state;
  }

  /** How long an open breaker (or the hysteresis) keeps this node's keys off Redis. */
  private openRetryMs(state: NodeState): number {
    const hysteresis = state.fallbackSince === undefined ? 0 : this.minFallbackMs - (this.now() - state.fallbackSince);
    const breaker = state.breaker.state === 'open' ? state.breaker.snapshot().retryAfterMs : 0;
    return Math.max(hysteresis, breaker, 1000);
  }

  private enterFallback(node: string, state: NodeState, at: number): void {
    if (state.fallbackSince !== undefined) return;
    state.fallbackSince = at;
    this.metrics.fallbackTransitions.inc({ store: this.name, node, to: 'fallback' });
    this.logger.warn({ store: this.name, node, minFallbackMs: this.minFallbackMs }, `rate-limit Redis node ${node} is unavailable; its keys follow onStoreFailure (local limits use the fallback store) for at least ${this.minFallbackMs} ms`);
  }

  private leaveFallback(node: string, state: NodeState, at: number): void {
    const since = state.fallbackSince ?? at;
    state.fallbackSince = undefined;
    this.metrics.fallbackTransitions.inc({ store: this.name, node, to: 'redis' });
    this.logger.info({ store: this.name, node, fallbackMs: Math.round(at - since) }, `rate-limit Redis node ${node} is back; its keys are counted on Redis again (local counts are not copied back)`);
  }
}

function asFallback(result: RateLimitDecision): RateLimitDecision {
  return decision(result.allowed, result.limit, result.remaining, result.resetMs, result.retryAfterMs, 'fallback');
}
