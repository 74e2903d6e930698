/**
 * The interface each rate-limit algorithm implements twice: in TypeScript for the memory store and
 * in Lua for Redis. Both read and write the same three numbers, compute with the same integer
 * operations in the same order, and so return the same decision for the same history (the contract
 * suite checks it against real Redis).
 */
import type { LimitDefinition, RateLimitDecision } from './types.js';

/**
 * Where the memory store keeps the state of one key: a record of numbers in a `Float64Array` (the
 * store's arena, or a scratch record for keys it does not hold), starting at an offset. Three numbers
 * whose meaning belongs to the algorithm, and when the state may be forgotten.
 */
export type StateRecords = Float64Array;
/** Offsets within a record. */
export const STATE_A = 0;
export const STATE_B = 1;
export const STATE_C = 2;
/** Epoch milliseconds after which the state is equivalent to a fresh one. 0: fresh. */
export const STATE_EXPIRES_AT = 3;
/** Numbers per record the algorithms use. */
export const STATE_FIELDS = 4;

/** A record of one key, all zero: what a key the store does not hold looks like. */
export function freshState(): StateRecords {
  return new Float64Array(STATE_FIELDS);
}

export interface CounterAlgorithm {
  /** One-letter code passed to the Lua driver. */
  readonly code: string;
  /**
   * Decides a request of `cost` units at `nowMs` for the record at offset `at` of `state`. Changes
   * the record only when `commit` is set, the request is allowed and `cost` is positive; a fresh
   * record is all 0.
   */
  evaluate(state: StateRecords, at: number, limit: LimitDefinition, nowMs: number, cost: number, commit: boolean): RateLimitDecision;
  /**
   * Lua source defining `<name>_check(keys, k, now_us, limit, window_ms, burst, emission_us, cost)`
   * (its keys are `keys[k]` onwards), returning `allowed, remaining, reset_ms, retry_ms` and up to
   * three values of state for the write, and `<name>_write(keys, k, now_us, window_ms, cost,
   * reset_ms, s1, s2, s3)`. Multiple return values rather than tables: a script runs on every
   * decision, and tables are garbage for Redis.
   */
  readonly lua: string;
  /** The Lua function name stem. */
  readonly luaName: string;
  /** Redis keys per limit, passed consecutively in KEYS (the check and write take `KEYS, k`). */
  readonly redisKeys: number;
}

/**
 * Builds a decision object; one shape everywhere keeps the call sites monomorphic. Every number in
 * a decision is an integer below 2^30 (option bounds guarantee it), and `| 0` says so to the
 * compiler: the fields stay small integers instead of boxed doubles, which matters when algorithms
 * computing in doubles and in integers share this one object shape.
 */
export function decision(allowed: boolean, limit: number, remaining: number, resetMs: number, retryAfterMs: number, reason: RateLimitDecision['reason']): RateLimitDecision {
  return { allowed, limit: limit | 0, remaining: remaining | 0, resetMs: resetMs | 0, retryAfterMs: retryAfterMs | 0, reason };
}
