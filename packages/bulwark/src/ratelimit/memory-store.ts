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
import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import { defaultMetricsRegistry } from '../observability/metrics-registry.js';
import { silentLogger, type LoggerLike } from '../observability/logger-like.js';
import { decision, type CounterAlgorithm, type CounterState } from './algorithm.js';
import { acquireInTable, leaseMember, releaseInTable, type LeaseTable } from './concurrency.js';
import { COUNTER_ALGORITHMS } from './lua-scripts.js';
import { Entry, ExpiryIndex, RecencyList } from './memory-entries.js';
import { rateLimitMetrics, type RateLimitMetrics } from './metrics.js';
import { PrefixClaims } from './prefix-claims.js';
import type { LeaseHandle, LeaseResult, LimitDefinition, LimitRequest, RateLimitDecision, RateLimitStore } from './types.js';

export interface MemoryStoreOptions {
  /** The most keys held at once (all limits together), 1…50,000,000. @default 100_000 */
  readonly maxSize?: number;
  /** The store's name in metrics (`store` label) and logs. @default 'memory' */
  readonly name?: string;
  /** The clock, epoch milliseconds. @default Date.now */
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
  return new MemoryStore(maxSize, name, options.now ?? Date.now, options.logger ?? silentLogger, rateLimitMetrics(options.registry ?? defaultMetricsRegistry()));
}

/** A fresh state for peeks at keys the store does not hold (never stored). */
const scratch: CounterState = { a: 0, b: 0, c: 0, expiresAt: 0 };
function freshScratch(): CounterState {
  scratch.a = 0;
  scratch.b = 0;
  scratch.c = 0;
  scratch.expiresAt = 0;
  return scratch;
}

class MemoryStore implements MemoryRateLimitStore {
  readonly supportsLocalFallback = false;
  readonly inProcess = true;
  private readonly tables = new Map<string, Map<string, Entry>>();
  private readonly recency = new RecencyList();
  private readonly expiry = new ExpiryIndex();
  private readonly claims: PrefixClaims;
  private readonly unregisterGauges: () => void;
  private count = 0;
  private saturated = 0;
  private warned = false;
  private saturationLogged = false;
  private destroyed = false;
  private lastLimit: LimitDefinition | undefined;
  private lastTable: Map<string, Entry> | undefined;

  constructor(
    readonly maxSize: number,
    readonly name: string,
    private readonly now: () => number,
    private readonly logger: LoggerLike,
    private readonly metrics: RateLimitMetrics,
  ) {
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
    this.assertAlive();
    const algorithm = counterAlgorithm(limit);
    const now = this.now();
    this.sweep(now);
    const table = this.tableFor(limit);
    let entry = table.get(key);
    if (entry === undefined) {
      if (cost === 0) return algorithm.evaluate(freshScratch(), limit, now, 0, false);
      entry = this.insert(table, key, now);
      if (entry === undefined) return this.refuseNewKey(limit);
    }
    const result = algorithm.evaluate(entry, limit, now, cost, true);
    this.afterDecision(entry, algorithm, limit, result, now, cost);
    return result;
  }

  consumeAll(requests: readonly LimitRequest[]): readonly RateLimitDecision[] {
    this.assertAlive();
    const now = this.now();
    this.sweep(now);
    const decisions: RateLimitDecision[] = [];
    let commit = true;
    for (const { limit, key, cost } of requests) {
      const entry = this.tableFor(limit).get(key);
      // Keep the keys of this call at the young end, so making room below cannot evict one of them.
      if (entry !== undefined) this.recency.touch(entry);
      const result = counterAlgorithm(limit).evaluate(entry ?? freshScratch(), limit, now, cost, false);
      decisions.push(result);
      if (!result.allowed && limit.blocking) commit = false;
    }
    for (let index = 0; index < requests.length; index += 1) {
      const request = requests[index];
      const result = decisions[index];
      if (request === undefined || result === undefined) continue;
      const algorithm = counterAlgorithm(request.limit);
      if (!commit || !result.allowed || request.cost === 0) {
        const held = this.tableFor(request.limit).get(request.key);
        if (held !== undefined && !result.allowed) this.afterDecision(held, algorithm, request.limit, result, now, request.cost);
        continue;
      }
      // Looked up again: making room for an earlier request may have recycled an expired entry.
      const table = this.tableFor(request.limit);
      const entry = table.get(request.key) ?? this.insert(table, request.key, now);
      if (entry === undefined) {
        decisions[index] = this.refuseNewKey(request.limit);
        continue;
      }
      const committed = algorithm.evaluate(entry, request.limit, now, request.cost, true);
      decisions[index] = committed;
      this.afterDecision(entry, algorithm, request.limit, committed, now, request.cost);
    }
    return decisions;
  }

  reset(limit: LimitDefinition, key: string): Promise<void> {
    this.assertAlive();
    const entry = this.tableFor(limit).get(key);
    if (entry !== undefined) this.delete(entry);
    return Promise.resolve();
  }

  acquireLease(limit: LimitDefinition, key: string, cost: number): LeaseResult {
    this.assertAlive();
    const now = this.now();
    this.sweep(now);
    const table = this.tableFor(limit);
    let entry = table.get(key);
    if (entry === undefined) {
      if (cost === 0) return { decision: acquireInTable({ leases: new Map(), held: 0 }, limit, now, 0, undefined), handle: undefined };
      entry = this.insert(table, key, now);
      if (entry === undefined) return { decision: this.refuseNewKey(limit), handle: undefined };
    }
    const leases: LeaseTable = (entry.leases ??= { leases: new Map(), held: 0 });
    const member = cost > 0 ? leaseMember(cost, nextLeaseId()) : undefined;
    const result = acquireInTable(leases, limit, now, cost, member);
    let handle: LeaseHandle | undefined;
    if (result.allowed && member !== undefined) {
      handle = { limit, key, id: member, cost, source: 'primary' };
      entry.expiresAt = now + limit.windowMs;
    }
    // A key holding leases is protected like a limited one: evicting it would free its slots.
    entry.protectedUntil = leases.held > 0 ? entry.expiresAt : 0;
    this.recency.touch(entry);
    this.expiry.update(entry);
    return { decision: result, handle };
  }

  releaseLease(handle: LeaseHandle): Promise<void> {
    if (this.destroyed) return Promise.resolve();
    const entry = this.tables.get(tableName(handle.limit))?.get(handle.key);
    if (entry?.leases !== undefined && releaseInTable(entry.leases, handle.id) && entry.leases.held === 0) entry.protectedUntil = 0;
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
    this.lastTable = undefined;
    this.lastLimit = undefined;
    this.count = 0;
    this.unregisterGauges();
  }

  private assertAlive(): void {
    if (this.destroyed) throw new Error(`memory rate-limit store "${this.name}" was used after destroy()`);
  }

  private tableFor(limit: LimitDefinition): Map<string, Entry> {
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
    return table;
  }

  /** Marks the key protected while it is limited, and files it under its new expiry. */
  private afterDecision(entry: Entry, algorithm: CounterAlgorithm, limit: LimitDefinition, result: RateLimitDecision, now: number, cost: number): void {
    if (!result.allowed) entry.protectedUntil = now + result.retryAfterMs;
    else if (result.remaining === 0 && cost > 0) entry.protectedUntil = now + algorithm.evaluate(entry, limit, now, 1, false).retryAfterMs;
    this.recency.touch(entry);
    this.expiry.update(entry);
  }

  /** Adds a key, making room first when full; `undefined` when every entry is protected. */
  private insert(table: Map<string, Entry>, key: string, now: number): Entry | undefined {
    let entry: Entry;
    if (this.count >= this.maxSize) {
      const victim = this.victim(now);
      if (victim === undefined) return undefined;
      this.delete(victim);
      victim.reset();
      entry = victim;
    } else {
      entry = new Entry();
    }
    entry.key = key;
    entry.table = table;
    table.set(key, entry);
    this.count += 1;
    this.saturationLogged = false;
    if (!this.warned && this.count >= this.maxSize * WARN_RATIO) {
      this.warned = true;
      this.logger.warn({ store: this.name, size: this.count, maxSize: this.maxSize }, `rate-limit memory store "${this.name}" is at ${Math.round(WARN_RATIO * 100)}% of maxSize; raise maxSize or expect least-recently-used keys to be evicted`);
    }
    return entry;
  }

  /** The entry to evict: an expired one, else the least recently used unprotected one. */
  private victim(now: number): Entry | undefined {
    const expired = this.expiry.expired(now, 64);
    if (expired !== undefined) return expired;
    for (let chance = 0; chance < SECOND_CHANCES; chance += 1) {
      const oldest = this.recency.last;
      if (oldest === undefined) return undefined;
      if (oldest.protectedUntil <= now || oldest.expiresAt <= now) return oldest;
      this.recency.touch(oldest);
    }
    return undefined;
  }

  /** Removes up to two expired entries, so the size tracks live keys without a timer. */
  private sweep(now: number): void {
    for (let removed = 0; removed < 2; removed += 1) {
      const expired = this.expiry.expired(now, 8);
      if (expired === undefined) return;
      this.delete(expired);
    }
  }

  private delete(entry: Entry): void {
    entry.table?.delete(entry.key);
    entry.table = undefined;
    this.recency.unlink(entry);
    this.expiry.remove(entry);
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

let leasePrefix: string | undefined;
let leaseCounter = 0;

/** A lease id unique across processes: a random per-process prefix and a counter. */
export function nextLeaseId(): string {
  leasePrefix ??= randomBytes(9).toString('base64url');
  leaseCounter += 1;
  return `${leasePrefix}${leaseCounter.toString(36)}`;
}
