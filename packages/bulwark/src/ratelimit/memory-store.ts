/**
 * The bounded in-process store: a limiter's only store on a single instance, and the local
 * fallback of the resilient store when Redis is unavailable.
 *
 * - Bounded: never more than `maxSize` keys, however many distinct keys arrive.
 * - O(1) per operation and no timer per key: state expires lazily (an algorithm reading stale state
 *   sees a fresh key), and at most two expired entries are swept per operation.
 * - Eviction when full: an expired entry first, else the least recently used one — but never a key
 *   that is currently limited (or holds concurrency leases): flooding new keys must not reset a
 *   blocked one. If every entry is such a key the new key is refused (fail closed; see docs).
 */
import type { Registry } from 'prom-client';
import { defaultMetricsRegistry } from '../observability/metrics-registry.js';
import { silentLogger, type LoggerLike } from '../observability/logger-like.js';
import { decision, freshState, type CounterAlgorithm, type StateRecords } from './algorithm.js';
import { acquireInTable, leaseMember, nextLeaseId, releaseInTable, type LeaseTable } from './concurrency.js';
import { loopNow } from './loop-clock.js';
import { COUNTER_ALGORITHMS } from './lua-scripts.js';
import { EntryArena, ExpiryIndex, NONE, RecencyList } from './memory-entries.js';
import { rateLimitMetrics, type RateLimitMetrics } from './metrics.js';
import { PrefixClaims } from './prefix-claims.js';
import type { LeaseHandle, LeaseResult, LimitDefinition, LimitRequest, RateLimitDecision, RateLimitStore } from './types.js';

export interface MemoryStoreOptions {
  /** The most keys held at once (all limits together), 1…50,000,000. @default 100_000 */
  readonly maxSize?: number;
  /** The store's name in metrics (`store` label) and logs. @default 'memory' */
  readonly name?: string;
  /** The clock, epoch milliseconds. @default Date.now, shared by the decisions of one task (see loop-clock.ts) */
  readonly now?: () => number;
  readonly logger?: LoggerLike;
  /** @default defaultMetricsRegistry() */
  readonly registry?: Registry;
}

/** What /health/summary reports about a memory store. */
export interface MemoryStoreStats {
  readonly name: string;
  readonly size: number;
  readonly maxSize: number;
  /** New keys refused because every entry was a limited key (see the docs' "saturation"). */
  readonly saturatedRejections: number;
}

/** The memory store answers synchronously (wrapped in a resolved promise by the limiters). */
export interface MemoryRateLimitStore extends RateLimitStore {
  consume(limit: LimitDefinition, key: string, cost: number): RateLimitDecision;
  consumeAll(requests: readonly LimitRequest[]): readonly RateLimitDecision[];
  acquireLease(limit: LimitDefinition, key: string, cost: number): LeaseResult;
  readonly maxSize: number;
  /** Keys held now. */
  readonly size: number;
  stats(): MemoryStoreStats;
  /** Frees everything; any later call throws. */
  destroy(): void;
}

export const DEFAULT_MEMORY_STORE_MAX_SIZE = 100_000;
const MAX_MAX_SIZE = 50_000_000;
/** Share of `maxSize` at which a warning is logged, and below which it is re-armed. */
const WARN_RATIO = 0.8;
const REARM_RATIO = 0.7;
/** How many limited entries at the old end of the recency list are passed over before giving up. */
const SECOND_CHANCES = 64;
/** How long a refused new key is told to wait when the store is saturated with limited keys. */
const SATURATED_RETRY_MS = 1000;

/**
 * Creates a bounded in-memory store.
 *
 * @example
 * const store = createMemoryStore({ maxSize: 200_000 });
 * const limiter = createRateLimiter({ name: 'api', algorithm: 'gcra', limit: 100, windowMs: 60_000, store });
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryRateLimitStore {
  const maxSize = options.maxSize ?? DEFAULT_MEMORY_STORE_MAX_SIZE;
  if (!Number.isInteger(maxSize) || maxSize < 1 || maxSize > MAX_MAX_SIZE) {
    throw new TypeError(`maxSize must be an integer between 1 and ${MAX_MAX_SIZE}, got ${String(maxSize)}`);
  }
  const name = options.name ?? 'memory';
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(name)) {
    throw new TypeError(`name must be 1–64 characters of A–Z, a–z, 0–9, "_", ".", ":" or "-", got ${JSON.stringify(name)}`);
  }
  if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('now must be a function returning epoch milliseconds');
  return new MemoryStore(maxSize, name, options.now ?? loopNow, options.logger ?? silentLogger, rateLimitMetrics(options.registry ?? defaultMetricsRegistry()));
}

/** The state of keys the store does not hold, for peeks and dry runs (never committed to). */
const FRESH: StateRecords = freshState();

class MemoryStore implements MemoryRateLimitStore {
  readonly supportsLocalFallback = false;
  readonly inProcess = true;
  private readonly tables = new Map<string, Map<string, number>>();
  private readonly arena: EntryArena;
  private readonly recency: RecencyList;
  private readonly expiry: ExpiryIndex;
  private readonly claims: PrefixClaims;
  private readonly unregisterGauges: () => void;
  private count = 0;
  private saturated = 0;
  private warned = false;
  private saturationLogged = false;
  private destroyed = false;
  private lastLimit: LimitDefinition | undefined;
  private lastTable: Map<string, number> | undefined;
  private lastAlgorithm: CounterAlgorithm | undefined;

  constructor(
    readonly maxSize: number,
    readonly name: string,
    private readonly now: () => number,
    private readonly logger: LoggerLike,
    private readonly metrics: RateLimitMetrics,
  ) {
    this.arena = new EntryArena(maxSize);
    // Exact LRU for small stores; above, entries among the newest eighth are not moved again.
    this.recency = new RecencyList(this.arena, Math.max(1, Math.floor(maxSize / 8)));
    this.expiry = new ExpiryIndex(this.arena, now());
    this.claims = new PrefixClaims(`memory store "${name}"`);
    this.unregisterGauges = metrics.registerMemoryStore({ name, maxSize, size: () => this.count });
  }

  get size(): number {
    return this.count;
  }

  stats(): MemoryStoreStats {
    return { name: this.name, size: this.count, maxSize: this.maxSize, saturatedRejections: this.saturated };
  }

  consume(limit: LimitDefinition, key: string, cost: number): RateLimitDecision {
    if (this.destroyed) this.assertAlive();
    const table = this.tableFor(limit);
    const algorithm = limit === this.lastLimit && this.lastAlgorithm !== undefined ? this.lastAlgorithm : counterAlgorithm(limit);
    const now = this.now();
    this.sweep(now);
    let index = table.get(key);
    if (index === undefined) {
      if (cost === 0) return algorithm.evaluate(FRESH, 0, limit, now, 0, false);
      index = this.insert(table, key, now);
      if (index === NONE) return this.refuseNewKey(limit);
    }
    const result = this.evaluateAt(index, algorithm, limit, now, cost, true);
    this.afterDecision(index, algorithm, limit, result, now, cost);
    return result;
  }

  consumeAll(requests: readonly LimitRequest[]): readonly RateLimitDecision[] {
    this.assertAlive();
    const now = this.now();
    this.sweep(now);
    const decisions: RateLimitDecision[] = [];
    let commit = true;
    for (const { limit, key, cost } of requests) {
      const index = this.tableFor(limit).get(key);
      // Keep the keys of this call at the young end, so making room below cannot evict one of them.
      if (index !== undefined) this.recency.touch(index);
      const algorithm = counterAlgorithm(limit);
      const result = index === undefined ? algorithm.evaluate(FRESH, 0, limit, now, cost, false) : this.evaluateAt(index, algorithm, limit, now, cost, false);
      decisions.push(result);
      if (!result.allowed && limit.blocking) commit = false;
    }
    for (let position = 0; position < requests.length; position += 1) {
      const request = requests[position];
      const result = decisions[position];
      if (request === undefined || result === undefined) continue;
      const algorithm = counterAlgorithm(request.limit);
      // Looked up again: making room for an earlier request may have recycled an expired entry.
      const table = this.tableFor(request.limit);
      const held = table.get(request.key);
      if (!commit || !result.allowed || request.cost === 0) {
        if (held !== undefined && !result.allowed) this.afterDecision(held, algorithm, request.limit, result, now, request.cost);
        continue;
      }
      const index = held ?? this.insert(table, request.key, now);
      if (index === NONE) {
        decisions[position] = this.refuseNewKey(request.limit);
        continue;
      }
      const committed = this.evaluateAt(index, algorithm, request.limit, now, request.cost, true);
      decisions[position] = committed;
      this.afterDecision(index, algorithm, request.limit, committed, now, request.cost);
    }
    return decisions;
  }

  reset(limit: LimitDefinition, key: string): Promise<void> {
    this.assertAlive();
    const index = this.tableFor(limit).get(key);
    if (index !== undefined) this.delete(index, true);
    return Promise.resolve();
  }

  acquireLease(limit: LimitDefinition, key: string, cost: number): LeaseResult {
    this.assertAlive();
    const now = this.now();
    this.sweep(now);
    const table = this.tableFor(limit);
    let index = table.get(key);
    if (index === undefined) {
      if (cost === 0) return { decision: acquireInTable({ leases: new Map(), held: 0 }, limit, now, 0, undefined), handle: undefined };
      index = this.insert(table, key, now);
      if (index === NONE) return { decision: this.refuseNewKey(limit), handle: undefined };
    }
    const arena = this.arena;
    const leases: LeaseTable = (arena.leases[index] ??= { leases: new Map(), held: 0 });
    const member = cost > 0 ? leaseMember(cost, nextLeaseId()) : undefined;
    const result = acquireInTable(leases, limit, now, cost, member);
    let handle: LeaseHandle | undefined;
    if (result.allowed && member !== undefined) {
      handle = { limit, key, id: member, cost, source: 'primary' };
      arena.setExpiresAt(index, now + limit.windowMs);
    }
    // A key holding leases is protected like a limited one: evicting it would free its slots.
    // (Expiry is kept in the record's expiry field, which lease keys share with counter keys.)
    arena.setProtectedUntil(index, leases.held > 0 ? arena.expiresAt(index) : 0);
    this.recency.touch(index);
    this.expiry.update(index);
    return { decision: result, handle };
  }

  releaseLease(handle: LeaseHandle): Promise<void> {
    if (this.destroyed) return Promise.resolve();
    const index = this.tables.get(tableName(handle.limit))?.get(handle.key);
    const leases = index === undefined ? undefined : this.arena.leases[index];
    if (index !== undefined && leases !== undefined && releaseInTable(leases, handle.id) && leases.held === 0) this.arena.setProtectedUntil(index, 0);
    return Promise.resolve();
  }

  claimPrefix(prefix: string, owner: string): () => void {
    this.assertAlive();
    return this.claims.claim(prefix, owner);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.tables.clear();
    this.recency.clear();
    this.expiry.clear();
    this.arena.clear();
    this.lastTable = undefined;
    this.lastLimit = undefined;
    this.lastAlgorithm = undefined;
    this.count = 0;
    this.unregisterGauges();
  }

  private assertAlive(): void {
    if (this.destroyed) throw new Error(`memory rate-limit store "${this.name}" was used after destroy()`);
  }

  private tableFor(limit: LimitDefinition): Map<string, number> {
    // Most calls repeat the previous limit: an identity check spares building the table name.
    if (limit === this.lastLimit && this.lastTable !== undefined) return this.lastTable;
    const name = tableName(limit);
    let table = this.tables.get(name);
    if (table === undefined) {
      table = new Map();
      this.tables.set(name, table);
    }
    this.lastLimit = limit;
    this.lastTable = table;
    this.lastAlgorithm = limit.algorithm === 'concurrency' ? undefined : COUNTER_ALGORITHMS[limit.algorithm];
    return table;
  }

  /** Runs the algorithm on an entry's numbers (the arena's columns at `index`). */
  private evaluateAt(index: number, algorithm: CounterAlgorithm, limit: LimitDefinition, now: number, cost: number, commit: boolean): RateLimitDecision {
    return algorithm.evaluate(this.arena.doubles, EntryArena.offset(index), limit, now, cost, commit);
  }

  /** Marks the key protected while it is limited, and files it under its new expiry. */
  private afterDecision(index: number, algorithm: CounterAlgorithm, limit: LimitDefinition, result: RateLimitDecision, now: number, cost: number): void {
    if (!result.allowed) this.arena.setProtectedUntil(index, now + result.retryAfterMs);
    else if (result.remaining === 0 && cost > 0) this.arena.setProtectedUntil(index, now + this.evaluateAt(index, algorithm, limit, now, 1, false).retryAfterMs);
    this.recency.touch(index);
    this.expiry.update(index);
  }

  /** Adds a key, making room first when full; {@link NONE} when every entry is protected. */
  private insert(table: Map<string, number>, key: string, now: number): number {
    let index: number;
    if (this.count >= this.maxSize) {
      const victim = this.victim(now);
      if (victim === NONE) return NONE;
      this.delete(victim, false);
      this.arena.reassign(victim, key, table);
      index = victim;
    } else {
      index = this.arena.allocate(key, table);
    }
    table.set(key, index);
    this.count += 1;
    this.saturationLogged = false;
    if (!this.warned && this.count >= this.maxSize * WARN_RATIO) {
      this.warned = true;
      this.logger.warn({ store: this.name, size: this.count, maxSize: this.maxSize }, `rate-limit memory store "${this.name}" is at ${Math.round(WARN_RATIO * 100)}% of maxSize; raise maxSize or expect least-recently-used keys to be evicted`);
    }
    return index;
  }

  /** The entry to evict: an expired one, else the least recently used unprotected one. */
  private victim(now: number): number {
    const expired = this.expiry.expired(now, 64);
    if (expired !== NONE) return expired;
    const arena = this.arena;
    for (let chance = 0; chance < SECOND_CHANCES; chance += 1) {
      const oldest = this.recency.last;
      if (oldest === NONE) return NONE;
      if (arena.protectedUntil(oldest) <= now || arena.expiresAt(oldest) <= now) return oldest;
      this.recency.touch(oldest);
    }
    return NONE;
  }

  /** Removes up to two expired entries, so the size tracks live keys without a timer. */
  private sweep(now: number): void {
    if (now < this.expiry.nextDueAt) return;
    for (let removed = 0; removed < 2; removed += 1) {
      const expired = this.expiry.expired(now, 8);
      if (expired === NONE) return;
      this.delete(expired, true);
    }
  }

  /** Takes an entry out of its table and both lists; `free` returns its index for reuse. */
  private delete(index: number, free: boolean): void {
    const arena = this.arena;
    arena.tables[index]?.delete(arena.keys[index] ?? '');
    this.recency.unlink(index);
    this.expiry.remove(index);
    if (free) arena.release(index);
    this.count -= 1;
    if (this.warned && this.count < this.maxSize * REARM_RATIO) this.warned = false;
  }

  private refuseNewKey(limit: LimitDefinition): RateLimitDecision {
    this.saturated += 1;
    this.metrics.memoryStoreSaturated.inc({ store: this.name });
    if (!this.saturationLogged) {
      this.saturationLogged = true;
      this.logger.warn({ store: this.name, maxSize: this.maxSize, limiter: limit.name }, `rate-limit memory store "${this.name}" is full of currently limited keys; refusing new keys until some expire`);
    }
    return decision(false, limit.algorithm === 'gcra' ? limit.burst : limit.limit, 0, SATURATED_RETRY_MS, SATURATED_RETRY_MS, 'limited');
  }
}

function counterAlgorithm(limit: LimitDefinition): CounterAlgorithm {
  if (limit.algorithm === 'concurrency') throw new TypeError(`limiter "${limit.name}" is a concurrency limit: use acquireLease(), not consume()`);
  return COUNTER_ALGORITHMS[limit.algorithm];
}

/** Limits with one prefix but different algorithms keep separate state (switching algorithm starts afresh). */
function tableName(limit: LimitDefinition): string {
  return `${limit.prefix}\u0000${limit.algorithm}`;
}
