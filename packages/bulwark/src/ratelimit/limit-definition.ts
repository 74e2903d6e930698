/**
 * Validation of limiter options, once, at creation: each bad option is a `TypeError` that names it
 * and the allowed range. The bounds keep every product the algorithms compute (limit × window in
 * milliseconds, time in microseconds) below 2^53, so the integer arithmetic stays exact.
 */
import { ceilDiv } from './integer-math.js';
import type { LimitDefinition, RateLimitAlgorithm, RateLimitStore, StoreAlgorithm, StoreFailurePolicy } from './types.js';

export const MAX_LIMIT = 100_000_000;
/** One day: rate limits, not quotas (monthly quotas belong in a database). */
export const MAX_WINDOW_MS = 86_400_000;
export const MAX_EXPECTED_INSTANCES = 10_000;
/** GCRA's bucket may hold at most this many windows' worth of requests. */
export const MAX_BURST_FACTOR = 10;
/** GCRA needs an emission interval of at least 1 µs: at most 1,000 requests per millisecond. */
const MAX_RATE_PER_MS = 1000;

const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const ALGORITHMS: readonly RateLimitAlgorithm[] = ['gcra', 'sliding-window', 'fixed-window'];
const POLICIES: readonly StoreFailurePolicy[] = ['local', 'closed', 'open'];

export function integerOption(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} must be an integer between ${min} and ${max}, got ${describe(value)}`);
  }
  return value;
}

export function nameOption(option: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME_PATTERN.test(value)) {
    throw new TypeError(`${option} must be 1–64 characters of A–Z, a–z, 0–9, "_", "." or "-", got ${describe(value)}`);
  }
  return value;
}

export function storeOption(value: unknown): RateLimitStore {
  const store = value as Partial<RateLimitStore> | undefined;
  if (typeof store !== 'object' || store === null || typeof store.consume !== 'function' || typeof store.claimPrefix !== 'function') {
    throw new TypeError('store must be a RateLimitStore (createMemoryStore, createRedisStore or createResilientStore)');
  }
  return store as RateLimitStore;
}

export function algorithmOption(value: unknown): RateLimitAlgorithm {
  if (!ALGORITHMS.includes(value as RateLimitAlgorithm)) throw new TypeError(`algorithm must be one of ${ALGORITHMS.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
  return value as RateLimitAlgorithm;
}

/** `onStoreFailure`, defaulting to `local` on a store that can fall back and to `closed` elsewhere. */
export function failurePolicyOption(value: unknown, store: RateLimitStore): StoreFailurePolicy {
  const policy = value ?? (store.supportsLocalFallback ? 'local' : 'closed');
  if (!POLICIES.includes(policy as StoreFailurePolicy)) throw new TypeError(`onStoreFailure must be one of 'local', 'closed', 'open', got ${describe(value)}`);
  if (policy === 'local' && !store.supportsLocalFallback) {
    throw new TypeError(`onStoreFailure 'local' needs a store with a local fallback (createResilientStore); store "${store.name}" has none`);
  }
  return policy as StoreFailurePolicy;
}

export interface DefinitionInput {
  readonly name: string;
  readonly prefix: string;
  readonly algorithm: StoreAlgorithm;
  readonly limit: number;
  readonly windowMs: number;
  readonly burst: number;
  readonly onStoreFailure: StoreFailurePolicy;
  readonly blocking: boolean;
  readonly expectedInstances: number;
}

/**
 * Builds the frozen definition stores read, with its local-fallback twin: the limit (and burst)
 * divided by the number of instances expected to share the load while each counts on its own.
 */
export function buildDefinition(input: DefinitionInput): LimitDefinition {
  if (input.algorithm === 'gcra' && input.limit > input.windowMs * MAX_RATE_PER_MS) {
    throw new TypeError(`limit must be at most ${MAX_RATE_PER_MS} per millisecond of windowMs for gcra (at most ${input.windowMs * MAX_RATE_PER_MS} for windowMs ${input.windowMs}), got ${input.limit}`);
  }
  const make = (limit: number, burst: number, local: LimitDefinition | undefined): LimitDefinition => {
    const emissionUs = input.algorithm === 'gcra' ? ceilDiv(input.windowMs * 1000, limit) : 0;
    return Object.freeze({
      name: input.name,
      prefix: input.prefix,
      algorithm: input.algorithm,
      limit,
      windowMs: input.windowMs,
      burst,
      emissionUs,
      emissionCeilMs: ceilDiv(emissionUs, 1000),
      onStoreFailure: input.onStoreFailure,
      blocking: input.blocking,
      local,
    });
  };
  const divisor = input.expectedInstances;
  const local = make(Math.max(1, Math.floor(input.limit / divisor)), Math.max(1, Math.floor(input.burst / divisor)), undefined);
  return make(input.limit, input.burst, local);
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  return typeof value;
}
