/**
 * The shared store: every decision is one Lua script on Redis (standalone or Cluster), atomic, so
 * no interleaving of instances can let more than the limit through.
 *
 * Keys look like `bw:rl:{<key>}:<prefix>:<algorithm>`: the identity is the hash tag, so all limits
 * of one identity live in one Cluster slot and a multi-limit decision is one script call.
 */
import type { Registry } from 'prom-client';
import { defaultMetricsRegistry } from '../observability/metrics-registry.js';
import { silentLogger, type LoggerLike } from '../observability/logger-like.js';
import { decision } from './algorithm.js';
import { leaseMember, nextLeaseId } from './concurrency.js';
import { hashTagSafeKey } from './key-normalization.js';
import { luaScripts, RESULTS_PER_LIMIT, type LuaScript } from './lua-scripts.js';
import { rateLimitMetrics } from './metrics.js';
import { prefixClaimsFor, type PrefixClaims } from './prefix-claims.js';
import { ScriptRunner, StoreFailure, type RedisClient, type ScriptLimit } from './redis-script-runner.js';
import type { LeaseHandle, LeaseResult, LimitDefinition, LimitRequest, RateLimitDecision, RateLimitStore } from './types.js';
import { capacityOf, unavailableDecision } from './unavailable.js';

export { StoreFailure } from './redis-script-runner.js';
export type { StoreFailureKind } from './redis-script-runner.js';

/** Options an ioredis client (or Cluster, and its `redisOptions`) should have for a rate-limit store. */
export const RATE_LIMIT_REDIS_OPTIONS = Object.freeze({
  /** A command issued while disconnected fails at once instead of queueing (and hanging) until reconnect. */
  enableOfflineQueue: false,
  /** One retry on a broken connection at most; the store's own timeout bounds the rest. */
  maxRetriesPerRequest: 1,
});

export interface RedisStoreOptions {
  /** An ioredis `Redis` or `Cluster` created with `enableOfflineQueue: false` (see {@link RATE_LIMIT_REDIS_OPTIONS}). */
  readonly client: RedisClient;
  /** Deadline of one call (one batch), 1…10,000 ms. @default 50 */
  readonly timeoutMs?: number;
  /**
   * Where time comes from: Redis `TIME` inside the script (every instance agrees), or this
   * process's clock, passed in (for managed services that forbid `TIME` in scripts).
   * @default 'redis'
   */
  readonly clock?: 'redis' | 'client';
  /** The client clock, epoch milliseconds, used when `clock` is `client`. @default Date.now */
  readonly now?: () => number;
  /** Prefix of every key, without braces. @default 'bw:rl:' */
  readonly namespace?: string;
  /** Send the calls of one event-loop tick as one pipeline. @default true */
  readonly batch?: boolean;
  /** The store's name in metrics and logs. @default 'redis' */
  readonly name?: string;
  readonly logger?: LoggerLike;
  /** @default defaultMetricsRegistry() */
  readonly registry?: Registry;
}

/** The Redis store, with the failure-as-value calls the resilient store builds on. */
export interface RedisRateLimitStore extends RateLimitStore {
  readonly client: RedisClient;
  /** The node (`host:port`) that holds `key`'s slot: the unit of a circuit breaker. */
  nodeFor(key: string): string;
  /** The Redis keys of `key` under `limit` (for operators and tests): one, or two for the sliding window and leases. */
  redisKeys(limit: LimitDefinition, key: string): readonly string[];
  attempt(limit: LimitDefinition, key: string, cost: number): Promise<RateLimitDecision | StoreFailure>;
  attemptAll(requests: readonly LimitRequest[]): Promise<readonly RateLimitDecision[] | StoreFailure>;
  attemptLease(limit: LimitDefinition, key: string, cost: number): Promise<LeaseResult | StoreFailure>;
  attemptRelease(handle: LeaseHandle): Promise<boolean | StoreFailure>;
}

/**
 * Creates the Redis store.
 *
 * @throws TypeError when the client queues commands offline, or an option is out of range.
 * @example
 * const client = new Redis(process.env.REDIS_URL, { ...RATE_LIMIT_REDIS_OPTIONS });
 * const store = createRedisStore({ client, timeoutMs: 50 });
 */
export function createRedisStore(options: RedisStoreOptions): RedisRateLimitStore {
  const client = options.client;
  if (typeof client !== 'object' || client === null || typeof client.evalsha !== 'function') throw new TypeError('client must be an ioredis Redis or Cluster instance');
  if (client.options.enableOfflineQueue !== false) {
    throw new TypeError('client must be created with enableOfflineQueue: false (spread RATE_LIMIT_REDIS_OPTIONS into its options): a queued command would hang every decision while Redis is down');
  }
  const timeoutMs = options.timeoutMs ?? 50;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 10_000) throw new TypeError(`timeoutMs must be an integer between 1 and 10000, got ${String(timeoutMs)}`);
  const clock = options.clock ?? 'redis';
  if (clock !== 'redis' && clock !== 'client') throw new TypeError(`clock must be 'redis' or 'client', got ${JSON.stringify(clock)}`);
  const namespace = options.namespace ?? 'bw:rl:';
  if (typeof namespace !== 'string' || !/^[A-Za-z0-9_.:-]{0,64}$/.test(namespace)) throw new TypeError(`namespace must be at most 64 characters of A–Z, a–z, 0–9, "_", ".", ":" or "-", got ${JSON.stringify(namespace)}`);
  const name = options.name ?? 'redis';
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(name)) throw new TypeError(`name must be 1–64 characters of A–Z, a–z, 0–9, "_", ".", ":" or "-", got ${JSON.stringify(name)}`);
  return new RedisStore(client, { timeoutMs, clock, namespace, name, batch: options.batch ?? true, now: options.now ?? Date.now, logger: options.logger ?? silentLogger, registry: options.registry ?? defaultMetricsRegistry() });
}

interface ResolvedOptions {
  readonly timeoutMs: number;
  readonly clock: 'redis' | 'client';
  readonly namespace: string;
  readonly name: string;
  readonly batch: boolean;
  readonly now: () => number;
  readonly logger: LoggerLike;
  readonly registry: Registry;
}

const ALGORITHM_CODES = { gcra: 'g', 'sliding-window': 's', 'fixed-window': 'f', concurrency: 'c' } as const;

class RedisStore implements RedisRateLimitStore {
  readonly supportsLocalFallback = false;
  readonly inProcess = false;
  readonly name: string;
  private readonly runner: ScriptRunner;
  private readonly claims: PrefixClaims;
  /** Per limit: the key suffix and the script arguments that never change. */
  private readonly fixedParts = new WeakMap<LimitDefinition, LimitParts>();
  private failing = 0;

  constructor(
    readonly client: RedisClient,
    private readonly options: ResolvedOptions,
  ) {
    this.name = options.name;
    const metrics = rateLimitMetrics(options.registry);
    this.runner = new ScriptRunner(client, {
      timeoutMs: options.timeoutMs,
      batch: options.batch,
      clockArgument: () => this.clockArgument(),
      onLatency: (seconds) => {
        metrics.storeLatency.observe({ store: this.name }, seconds);
        if (this.failing > 0) {
          options.logger.info({ store: this.name, failures: this.failing }, `rate-limit store "${this.name}" answers again`);
          this.failing = 0;
        }
      },
      onFailure: (failure) => {
        metrics.storeErrors.inc({ store: this.name, kind: failure.kind });
        if (this.failing === 0) options.logger.warn({ store: this.name, node: failure.node, kind: failure.kind, error: failure.message }, `rate-limit store "${this.name}" failed (${failure.kind}); limits follow their onStoreFailure`);
        this.failing += 1;
      },
      onScriptReload: () => metrics.storeErrors.inc({ store: this.name, kind: 'noscript' }),
    });
    this.claims = prefixClaimsFor(client, options.namespace, `Redis store "${options.name}" (namespace "${options.namespace}")`);
  }

  nodeFor(key: string): string {
    return this.runner.nodeFor(hashTagSafeKey(key));
  }

  redisKeys(limit: LimitDefinition, key: string): readonly string[] {
    return this.keysOf(limit, hashTagSafeKey(key));
  }

  consume(limit: LimitDefinition, key: string, cost: number): Promise<RateLimitDecision> {
    // One promise per decision on the hot path: a failure becomes a decision right in the callback.
    return new Promise((resolve) => {
      this.decideOne(limit, key, cost, (result) => resolve(result instanceof StoreFailure ? unavailableDecision(limit, 'store_unavailable') : result));
    });
  }

  consumeAll(requests: readonly LimitRequest[]): Promise<readonly RateLimitDecision[]> {
    return this.attemptAll(requests).then((result) => (result instanceof StoreFailure ? requests.map(({ limit }) => unavailableDecision(limit, 'store_unavailable')) : result));
  }

  acquireLease(limit: LimitDefinition, key: string, cost: number): Promise<LeaseResult> {
    return this.attemptLease(limit, key, cost).then((result) => (result instanceof StoreFailure ? { decision: unavailableDecision(limit, 'store_unavailable'), handle: undefined } : result));
  }

  async releaseLease(handle: LeaseHandle): Promise<void> {
    // A release that cannot reach Redis is not retried: the lease's TTL frees the slots.
    await this.attemptRelease(handle);
  }

  attempt(limit: LimitDefinition, key: string, cost: number): Promise<RateLimitDecision | StoreFailure> {
    return new Promise((resolve) => this.decideOne(limit, key, cost, resolve));
  }

  attemptAll(requests: readonly LimitRequest[]): Promise<readonly RateLimitDecision[] | StoreFailure> {
    const first = requests[0];
    if (first === undefined) return Promise.resolve([]);
    const tag = hashTagSafeKey(first.key);
    const keys: string[] = [];
    const parts: LimitParts[] = [];
    const costs: number[] = [];
    const limits: LimitDefinition[] = [];
    let script = this.scriptFor(first.limit);
    for (const request of requests) {
      if (request.key !== first.key) throw new TypeError('every limit of a multi-limit check must use the same key');
      if (request.limit.algorithm !== first.limit.algorithm) script = luaScripts().mixed;
      for (const each of this.keysOf(request.limit, tag)) keys.push(each);
      parts.push(this.parts(request.limit));
      costs.push(request.cost);
      limits.push(request.limit);
    }
    return new Promise((resolve) => {
      this.runner.decide(script, keys, parts, costs, tag, (reply, offset) => {
        if (reply instanceof StoreFailure) {
          resolve(reply);
          return;
        }
        const decisions: RateLimitDecision[] = [];
        for (let index = 0; index < limits.length; index += 1) {
          const decoded = decodeDecision(limits[index] as LimitDefinition, reply, offset + index * RESULTS_PER_LIMIT);
          if (decoded === undefined) {
            resolve(malformed(first.key, this.runner));
            return;
          }
          decisions.push(decoded);
        }
        resolve(decisions);
      });
    });
  }

  attemptLease(limit: LimitDefinition, key: string, cost: number): Promise<LeaseResult | StoreFailure> {
    const id = cost > 0 ? nextLeaseId() : '';
    const tag = hashTagSafeKey(key);
    const argv = [...this.keysOf(limit, tag), this.clockArgument(), limit.limit, limit.windowMs, cost, id];
    return this.runner.run(luaScripts().acquire, 2, argv, tag).then((reply) => {
      if (reply instanceof StoreFailure) return reply;
      const result = Array.isArray(reply) ? decodeDecision(limit, reply, 0) : undefined;
      if (result === undefined) return malformed(key, this.runner);
      const handle: LeaseHandle | undefined = result.allowed && cost > 0 ? { limit, key, id: leaseMember(cost, id), cost, source: 'primary' } : undefined;
      return { decision: result, handle };
    });
  }

  attemptRelease(handle: LeaseHandle): Promise<boolean | StoreFailure> {
    const tag = hashTagSafeKey(handle.key);
    return this.runner.run(luaScripts().release, 2, [...this.keysOf(handle.limit, tag), handle.id], tag).then((reply) => (reply instanceof StoreFailure ? reply : reply === 1));
  }

  async reset(limit: LimitDefinition, key: string): Promise<void> {
    const keys = this.keysOf(limit, hashTagSafeKey(key));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`rate-limit store "${this.name}" did not answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    });
    try {
      await Promise.race([this.client.del(...keys), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  claimPrefix(prefix: string, owner: string): () => void {
    return this.claims.claim(prefix, owner);
  }

  /** Queues one single-limit decision; `done` gets the decision or the failure. */
  private decideOne(limit: LimitDefinition, key: string, cost: number, done: (result: RateLimitDecision | StoreFailure) => void): void {
    const tag = hashTagSafeKey(key);
    const parts = this.parts(limit);
    const keys = limit.algorithm === 'sliding-window' ? this.keysOf(limit, tag) : `${this.options.namespace}{${tag}${parts.suffix}`;
    this.runner.decide(this.scriptFor(limit), keys, parts, cost, tag, (reply, offset) => {
      done(reply instanceof StoreFailure ? reply : (decodeDecision(limit, reply, offset) ?? malformed(key, this.runner)));
    });
  }

  /** `bw:rl:{<key>}:<prefix>:<algorithm>`, with `:0`/`:1` (sliding window) or `:s`/`:n` (leases) appended. */
  private keysOf(limit: LimitDefinition, tag: string): readonly string[] {
    const base = `${this.options.namespace}{${tag}${this.parts(limit).suffix}`;
    switch (limit.algorithm) {
      case 'sliding-window':
        return [`${base}:0`, `${base}:1`];
      case 'concurrency':
        return [`${base}:s`, `${base}:n`];
      default:
        return [base];
    }
  }

  /** The time argument of a script: '' for Redis `TIME`, else this process's clock in µs. */
  private clockArgument(): string | number {
    return this.options.clock === 'redis' ? '' : this.options.now() * 1000;
  }

  private scriptFor(limit: LimitDefinition): LuaScript {
    if (limit.algorithm === 'concurrency') throw new TypeError(`limiter "${limit.name}" is a concurrency limit: use acquireLease(), not consume()`);
    return luaScripts().byAlgorithm[limit.algorithm];
  }

  private parts(limit: LimitDefinition): LimitParts {
    let parts = this.fixedParts.get(limit);
    if (parts === undefined) {
      const code = ALGORITHM_CODES[limit.algorithm];
      parts = {
        suffix: `}:${limit.prefix}:${code}`,
        scriptArgs: [code, String(limit.limit), String(limit.windowMs), String(limit.burst), String(limit.emissionUs), limit.blocking ? '1' : '0'],
      };
      this.fixedParts.set(limit, parts);
    }
    return parts;
  }
}

/** What never changes for a limit: its key suffix and its values in the decision script. */
interface LimitParts extends ScriptLimit {
  readonly suffix: string;
}

/** The four integers at `offset` of a script reply as a decision; `undefined` when they are not there. */
function decodeDecision(limit: LimitDefinition, reply: readonly unknown[], offset: number): RateLimitDecision | undefined {
  const allowed = reply[offset];
  const remaining = reply[offset + 1];
  const resetMs = reply[offset + 2];
  const retryAfterMs = reply[offset + 3];
  if (typeof allowed !== 'number' || typeof remaining !== 'number' || typeof resetMs !== 'number' || typeof retryAfterMs !== 'number') return undefined;
  return decision(allowed === 1, limit.algorithm === 'concurrency' ? limit.limit : capacityOf(limit), remaining, resetMs, retryAfterMs, allowed === 1 ? 'ok' : 'limited');
}

/** A reply of the wrong shape (a foreign script under our SHA?) counts as a failed call. */
function malformed(key: string, runner: ScriptRunner): StoreFailure {
  return new StoreFailure('script', 'unexpected reply from the rate-limit script', runner.nodeFor(hashTagSafeKey(key)));
}
