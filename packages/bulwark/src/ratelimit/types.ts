/**
 * The shapes every part of the rate limiter shares: the decision it returns, the normalised limit
 * definition a store evaluates, and the store contract that the memory, Redis and resilient stores
 * all implement (one contract test suite runs against each).
 */

/**
 * Why a decision came out the way it did.
 *
 * - `ok`: the store counted the request and it is within the limit.
 * - `limited`: the request is over the limit (decided by the store or by the local block cache).
 * - `fallback`: the shared store was unavailable and the bounded local store decided (see `allowed`).
 * - `store_unavailable`: the store failed or timed out; the limit's `onStoreFailure` decided
 *   (`closed` → rejected, `open` → allowed).
 * - `circuit_open`: the store's circuit breaker is open, so it was not asked; `onStoreFailure`
 *   decided as above.
 * - `shadow`: a shadow-mode limit would have rejected this request; it was allowed.
 */
export type RateLimitReason = 'ok' | 'limited' | 'fallback' | 'store_unavailable' | 'circuit_open' | 'shadow';

/** Every reason, in a fixed order (metrics and tests iterate over it). */
export const RATE_LIMIT_REASONS: readonly RateLimitReason[] = Object.freeze(['ok', 'limited', 'fallback', 'store_unavailable', 'circuit_open', 'shadow']);

/**
 * The answer to one rate-limit check. All durations are relative to the moment of the decision.
 *
 * @example
 * const decision = await limiter.consume(clientIp);
 * if (!decision.allowed) reply429(Math.ceil(decision.retryAfterMs / 1000));
 */
export interface RateLimitDecision {
  /** Whether the request may proceed. */
  readonly allowed: boolean;
  /** The quota: requests per window (for GCRA, the bucket capacity `burst`). */
  readonly limit: number;
  /** Units of quota left after this request (never negative). */
  readonly remaining: number;
  /** Milliseconds until the full quota is available again (0 when nothing is used). */
  readonly resetMs: number;
  /** Milliseconds until a request of the same cost would be allowed; 0 when allowed. */
  readonly retryAfterMs: number;
  /** Why: see {@link RateLimitReason}. */
  readonly reason: RateLimitReason;
}

/** The rate-limit algorithms. */
export type RateLimitAlgorithm = 'gcra' | 'sliding-window' | 'fixed-window';

/** Every algorithm a store evaluates, the concurrency limiter's leases included. */
export type StoreAlgorithm = RateLimitAlgorithm | 'concurrency';

/**
 * What a limit does when the shared store cannot answer:
 * - `local`: enforce on the bounded in-process store (the limit divided by `expectedInstances`);
 * - `closed`: reject (the HTTP layer answers 503 with `Retry-After`);
 * - `open`: allow, counted (`ratelimit_decisions_total{result="…_allowed"}`) and logged.
 */
export type StoreFailurePolicy = 'local' | 'closed' | 'open';

/**
 * A limit after validation, as stores see it. Created once by a limiter factory; stores read it on
 * every call, so it is a plain frozen object with precomputed numbers.
 */
export interface LimitDefinition {
  /** The limiter's name (metrics label, logs). */
  readonly name: string;
  /** The key prefix: the limiter's namespace inside a store. */
  readonly prefix: string;
  readonly algorithm: StoreAlgorithm;
  /** Requests per window, or concurrent leases for `concurrency`. */
  readonly limit: number;
  /** The window; for `concurrency` the lease TTL. */
  readonly windowMs: number;
  /** GCRA bucket capacity; equals `limit` for the other algorithms. */
  readonly burst: number;
  /** GCRA emission interval in whole microseconds (rounded up, so the rate is never exceeded). */
  readonly emissionUs: number;
  /** ⌈emissionUs / 1000⌉: the reset time of one request into a full GCRA bucket, ms. */
  readonly emissionCeilMs: number;
  readonly onStoreFailure: StoreFailurePolicy;
  /** False for shadow-mode limits: their rejection does not block the other limits of a multi-limit check. */
  readonly blocking: boolean;
  /** The same limit for the local fallback (limit divided by the expected number of instances). */
  readonly local: LimitDefinition | undefined;
}

/** One limit of a multi-limit check. */
export interface LimitRequest {
  readonly limit: LimitDefinition;
  readonly key: string;
  readonly cost: number;
}

/** A held concurrency slot, as the store that granted it knows it. Opaque to applications. */
export interface LeaseHandle {
  readonly limit: LimitDefinition;
  readonly key: string;
  readonly id: string;
  readonly cost: number;
  /** Which store granted it, so that release goes to the same one. */
  readonly source: 'primary' | 'local';
}

/** The answer to a lease request: the decision and, when allowed, the handle to release. */
export interface LeaseResult {
  readonly decision: RateLimitDecision;
  readonly handle: LeaseHandle | undefined;
}

/** A value that a synchronous store returns directly and an asynchronous one as a promise. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Where limits are counted. Implementations: {@link createMemoryStore} (bounded, in-process),
 * {@link createRedisStore} (shared, Lua) and {@link createResilientStore} (Redis behind a breaker
 * per node with a local fallback).
 *
 * A store never rejects its promises for an unavailable backend: failures become decisions
 * according to each limit's `onStoreFailure`. It throws only for programming errors (use after
 * `destroy()`).
 */
export interface RateLimitStore {
  /** A short name for metrics and logs (`memory`, `redis`, …). */
  readonly name: string;
  /** Whether the store can enforce `onStoreFailure: 'local'` (only the resilient store can). */
  readonly supportsLocalFallback: boolean;
  /**
   * Whether the store lives in this process and answers synchronously (its methods return values,
   * never promises). A local block cache in front of such a store would be redundant.
   */
  readonly inProcess: boolean;
  /** Counts `cost` units against `key` (cost 0 is a peek: nothing changes). */
  consume(limit: LimitDefinition, key: string, cost: number): MaybePromise<RateLimitDecision>;
  /**
   * Evaluates several limits in one step: if any blocking limit rejects, none is consumed.
   * Every request must use the same key (so that on Redis Cluster they share a slot).
   */
  consumeAll(requests: readonly LimitRequest[]): MaybePromise<readonly RateLimitDecision[]>;
  /** Forgets everything counted for `key` under `limit`. */
  reset(limit: LimitDefinition, key: string): Promise<void>;
  /** Takes `cost` concurrency slots for one lease that expires after `limit.windowMs`. */
  acquireLease(limit: LimitDefinition, key: string, cost: number): MaybePromise<LeaseResult>;
  /** Gives a lease's slots back; idempotent, never rejects. */
  releaseLease(handle: LeaseHandle): Promise<void>;
  /**
   * Reserves `prefix` for the limiter `owner`, so that two limiters cannot share counters by
   * accident. Returns the function that frees it.
   * @throws TypeError when another live limiter already holds the prefix in this store.
   */
  claimPrefix(prefix: string, owner: string): () => void;
}
