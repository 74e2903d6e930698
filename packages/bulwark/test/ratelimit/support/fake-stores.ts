import { createMetricsRegistry } from '../../../src/observability/metrics-registry.js';
import { createMemoryStore, type MemoryRateLimitStore } from '../../../src/ratelimit/memory-store.js';
import { StoreFailure } from '../../../src/ratelimit/redis-script-runner.js';
import type { RedisRateLimitStore } from '../../../src/ratelimit/redis-store.js';
import type { LeaseHandle, LeaseResult, LimitDefinition, LimitRequest, RateLimitDecision, RateLimitStore } from '../../../src/ratelimit/types.js';
import { unavailableDecision } from '../../../src/ratelimit/unavailable.js';

/**
 * A remote-looking store (asynchronous, not in-process) over a memory store, counting calls and
 * able to fail on demand: for limiter and resilient-store logic without a Redis.
 */
export class FakeRemoteStore implements RedisRateLimitStore {
  readonly supportsLocalFallback = false;
  readonly inProcess = false;
  readonly client = undefined as never;
  readonly backing: MemoryRateLimitStore;
  calls = 0;
  /** When set, lease requests wait for it: for what happens while a store call is in flight. */
  leaseGate: Promise<void> | undefined;
  /** Nodes whose calls fail (`*` = all). */
  readonly failingNodes = new Set<string>();
  /** Node of a key: the part before the first `/`, else `node-a`. */
  nodeFor = (key: string): string => (key.includes('/') ? (key.split('/')[0] ?? 'node-a') : 'node-a');

  constructor(
    readonly name = 'fake-redis',
    now?: () => number,
  ) {
    this.backing = createMemoryStore({ name: `${name}-backing`, maxSize: 100_000, registry: createMetricsRegistry({ defaultMetrics: false }), ...(now === undefined ? {} : { now }) });
  }

  private fails(key: string): boolean {
    return this.failingNodes.has('*') || this.failingNodes.has(this.nodeFor(key));
  }

  redisKeys(limit: LimitDefinition, key: string): readonly string[] {
    return [`fake:{${key}}:${limit.prefix}`];
  }

  async attempt(limit: LimitDefinition, key: string, cost: number): Promise<RateLimitDecision | StoreFailure> {
    this.calls += 1;
    await Promise.resolve();
    if (this.fails(key)) return new StoreFailure('connection', 'fake failure', this.nodeFor(key));
    return this.backing.consume(limit, key, cost);
  }

  async attemptAll(requests: readonly LimitRequest[]): Promise<readonly RateLimitDecision[] | StoreFailure> {
    this.calls += 1;
    await Promise.resolve();
    const key = requests[0]?.key ?? '';
    if (this.fails(key)) return new StoreFailure('timeout', 'fake timeout', this.nodeFor(key));
    return this.backing.consumeAll(requests);
  }

  async attemptLease(limit: LimitDefinition, key: string, cost: number): Promise<LeaseResult | StoreFailure> {
    this.calls += 1;
    await (this.leaseGate ?? Promise.resolve());
    if (this.fails(key)) return new StoreFailure('connection', 'fake failure', this.nodeFor(key));
    return this.backing.acquireLease(limit, key, cost);
  }

  async attemptRelease(handle: LeaseHandle): Promise<boolean | StoreFailure> {
    this.calls += 1;
    await Promise.resolve();
    if (this.fails(handle.key)) return new StoreFailure('connection', 'fake failure', this.nodeFor(handle.key));
    await this.backing.releaseLease(handle);
    return true;
  }

  async consume(limit: LimitDefinition, key: string, cost: number): Promise<RateLimitDecision> {
    const result = await this.attempt(limit, key, cost);
    return result instanceof StoreFailure ? unavailableDecision(limit, 'store_unavailable') : result;
  }

  async consumeAll(requests: readonly LimitRequest[]): Promise<readonly RateLimitDecision[]> {
    const result = await this.attemptAll(requests);
    return result instanceof StoreFailure ? requests.map(({ limit }) => unavailableDecision(limit, 'store_unavailable')) : result;
  }

  async acquireLease(limit: LimitDefinition, key: string, cost: number): Promise<LeaseResult> {
    const result = await this.attemptLease(limit, key, cost);
    return result instanceof StoreFailure ? { decision: unavailableDecision(limit, 'store_unavailable'), handle: undefined } : result;
  }

  async releaseLease(handle: LeaseHandle): Promise<void> {
    await this.attemptRelease(handle);
  }

  async reset(limit: LimitDefinition, key: string): Promise<void> {
    if (this.fails(key)) throw new Error('fake store unavailable');
    await this.backing.reset(limit, key);
  }

  claimPrefix(prefix: string, owner: string): () => void {
    return this.backing.claimPrefix(prefix, owner);
  }
}

/** The store interface check the limiter factories do, for a store that is not one. */
export const notAStore = { consume: 'nope' } as unknown as RateLimitStore;
