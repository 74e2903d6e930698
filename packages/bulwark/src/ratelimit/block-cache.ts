/**
 * The local block cache: once a key is over its limit, later requests for it are rejected in this
 * process until the store said they could pass, without another store call. An abusive client then
 * costs one map lookup instead of one Redis round trip per request.
 *
 * It can only reject what the store would reject: the store's `retryAfterMs` is the earliest time a
 * request of that cost can pass, and other instances can only push it later. Requests of a smaller
 * cost than the rejected one still go to the store. Bounded: oldest blocks are dropped first.
 */
import { decision } from './algorithm.js';
import type { RateLimitDecision } from './types.js';

interface Block {
  /** Epoch ms until which requests of at least `cost` are rejected. */
  readonly until: number;
  /** Epoch ms at which the quota is full again (for `resetMs`). */
  readonly resetAt: number;
  readonly cost: number;
  readonly limit: number;
}

export const DEFAULT_BLOCK_CACHE_SIZE = 10_000;

export class BlockCache {
  private readonly blocks = new Map<string, Block>();

  constructor(readonly maxSize: number) {}

  get size(): number {
    return this.blocks.size;
  }

  /** The rejection for `key` at `cost` if it is blocked at `now`, else `undefined`. */
  check(key: string, cost: number, now: number): RateLimitDecision | undefined {
    if (this.blocks.size === 0) return undefined;
    const block = this.blocks.get(key);
    if (block === undefined) return undefined;
    if (block.until <= now) {
      this.blocks.delete(key);
      return undefined;
    }
    if (cost < block.cost) return undefined;
    return decision(false, block.limit, 0, Math.max(block.resetAt - now, block.until - now), block.until - now, 'limited');
  }

  /** Remembers a rejection the store decided. */
  block(key: string, cost: number, now: number, rejected: RateLimitDecision): void {
    if (rejected.retryAfterMs <= 0) return;
    if (this.blocks.size >= this.maxSize && !this.blocks.has(key)) {
      // Map iteration order is insertion order: the first key is the oldest block.
      for (const oldest of this.blocks.keys()) {
        this.blocks.delete(oldest);
        break;
      }
    }
    this.blocks.set(key, { until: now + rejected.retryAfterMs, resetAt: now + rejected.resetMs, cost, limit: rejected.limit });
  }

  forget(key: string): void {
    this.blocks.delete(key);
  }
}
