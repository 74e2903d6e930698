/**
 * `createConcurrencyLimiter`: at most `limit` requests in progress per key. Each admitted request
 * holds a lease that it releases on completion; a lease also expires after `leaseTtlMs`, so a
 * process that crashed while holding one cannot leak the slot for good.
 */
import type { Registry } from 'prom-client';
import { defaultMetricsRegistry } from '../observability/metrics-registry.js';
import { silentLogger, type LoggerLike } from '../observability/logger-like.js';
import { decision } from './algorithm.js';
import { normalizeKey } from './key-normalization.js';
import { buildDefinition, failurePolicyOption, integerOption, MAX_EXPECTED_INSTANCES, MAX_WINDOW_MS, nameOption, storeOption } from './limit-definition.js';
import { LimiterCounters, rateLimitMetrics } from './metrics.js';
import { rejectUnknownOptions } from './options.js';
import type { LeaseHandle, LimitDefinition, RateLimitDecision, RateLimitStore, StoreFailurePolicy } from './types.js';

export interface ConcurrencyLimiterOptions {
  /** Metrics label, logs and default key prefix. 1–64 of `[A-Za-z0-9_.-]`. */
  readonly name: string;
  /** Units in progress at once per key, 1…1,000,000. */
  readonly limit: number;
  /** After this long a lease expires even if never released, 1…86,400,000 ms. Set it above your longest request. @default 60_000 */
  readonly leaseTtlMs?: number;
  readonly store: RateLimitStore;
  /** @default 'local' on a resilient store, else 'closed' */
  readonly onStoreFailure?: StoreFailurePolicy;
  /** The local fallback allows limit / expectedInstances. @default 1 */
  readonly expectedInstances?: number;
  /** Decide and count, but always admit. @default false */
  readonly shadow?: boolean;
  /** @default name */
  readonly keyPrefix?: string;
  readonly logger?: LoggerLike;
  readonly registry?: Registry;
}

/** An admission: the decision and, when admitted, the release. */
export interface ConcurrencyLease {
  readonly allowed: boolean;
  readonly decision: RateLimitDecision;
  /** Gives the slot back. Idempotent, never rejects; a no-op when the lease was not granted. */
  release(): Promise<void>;
}

export interface ConcurrencyLimiter {
  readonly name: string;
  readonly definition: LimitDefinition;
  readonly shadow: boolean;
  /**
   * Takes `cost` slots for `key`.
   * @example
   * const lease = await uploads.acquire(tenantId);
   * if (!lease.allowed) throw new ApiError('CONCURRENCY_LIMITED');
   * try { await handle(); } finally { await lease.release(); }
   */
  acquire(key: string, cost?: number): Promise<ConcurrencyLease>;
  /** Slots in use for `key`, without taking one. */
  peek(key: string): Promise<RateLimitDecision>;
  /** Frees every slot of `key`. Rejects when the store cannot be reached. */
  reset(key: string): Promise<void>;
  dispose(): void;
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set(['name', 'limit', 'leaseTtlMs', 'store', 'onStoreFailure', 'expectedInstances', 'shadow', 'keyPrefix', 'logger', 'registry']);
const released = (): Promise<void> => Promise.resolve();

/**
 * Creates a concurrency limiter.
 * @throws TypeError naming the first invalid option, or for a key prefix already in use on the store.
 */
export function createConcurrencyLimiter(options: ConcurrencyLimiterOptions): ConcurrencyLimiter {
  rejectUnknownOptions(options, KNOWN_OPTIONS);
  const name = nameOption('name', options.name);
  const limit = integerOption('limit', options.limit, 1, 1_000_000);
  const leaseTtlMs = integerOption('leaseTtlMs', options.leaseTtlMs ?? 60_000, 1, MAX_WINDOW_MS);
  const store = storeOption(options.store);
  const onStoreFailure = failurePolicyOption(options.onStoreFailure, store);
  const expectedInstances = integerOption('expectedInstances', options.expectedInstances ?? 1, 1, MAX_EXPECTED_INSTANCES);
  if (options.shadow !== undefined && typeof options.shadow !== 'boolean') throw new TypeError('shadow must be a boolean');
  const shadow = options.shadow ?? false;
  const prefix = nameOption('keyPrefix', options.keyPrefix ?? name);
  const definition = buildDefinition({ name, prefix, algorithm: 'concurrency', limit, windowMs: leaseTtlMs, burst: limit, onStoreFailure, blocking: !shadow, expectedInstances });
  const releasePrefix = store.claimPrefix(prefix, name);
  const counters = new LimiterCounters(name, prefix);
  const unregister = rateLimitMetrics(options.registry ?? defaultMetricsRegistry()).registerLimiter(counters);
  const logger = options.logger ?? silentLogger;
  let disposed = false;

  const check = (cost: number): void => {
    if (disposed) throw new Error(`concurrency limiter "${name}" was used after dispose()`);
    if (!Number.isInteger(cost) || cost < 0 || cost > limit) throw new TypeError(`cost must be an integer between 0 and ${limit}, got ${String(cost)}`);
  };

  const admit = (result: { decision: RateLimitDecision; handle: LeaseHandle | undefined }): ConcurrencyLease => {
    let outcome = result.decision;
    if (!outcome.allowed && shadow) outcome = decision(true, outcome.limit, outcome.remaining, outcome.resetMs, 0, 'shadow');
    counters.record(outcome);
    const handle = result.handle;
    if (handle === undefined) return { allowed: outcome.allowed, decision: outcome, release: released };
    let done = false;
    return {
      allowed: outcome.allowed,
      decision: outcome,
      release: () => {
        if (done) return Promise.resolve();
        done = true;
        return store.releaseLease(handle).catch((error: unknown) => {
          // Never reached for Bulwark's stores (they resolve); a custom store's failure only delays the slot until its TTL.
          logger.warn({ limiter: name, error: error instanceof Error ? error.message : String(error) }, 'releasing a concurrency lease failed; the lease expires with its TTL');
        });
      },
    };
  };

  return {
    name,
    definition,
    shadow,
    acquire(key, cost = 1) {
      check(cost);
      const result = store.acquireLease(definition, normalizeKey(key), cost);
      return result instanceof Promise ? result.then(admit) : Promise.resolve(admit(result));
    },
    peek(key) {
      check(0);
      const result = store.acquireLease(definition, normalizeKey(key), 0);
      return result instanceof Promise ? result.then((answer) => answer.decision) : Promise.resolve(result.decision);
    },
    async reset(key) {
      check(0);
      await store.reset(definition, normalizeKey(key));
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      releasePrefix();
      unregister();
    },
  };
}
