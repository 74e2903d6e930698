/**
 * The interface each rate-limit algorithm implements twice: in TypeScript for the memory store and
 * in Lua for Redis. Both read and write the same three numbers, compute with the same integer
 * operations in the same order, and so return the same decision for the same history (the contract
 * suite checks it against real Redis).
 */
import type { LimitDefinition, RateLimitDecision } from './types.js';

/**
 * The per-key state of a counter algorithm, as the memory store keeps it: three numbers whose
 * meaning belongs to the algorithm, and when the state may be forgotten.
 */
export interface CounterState {
  a: number;
  b: number;
  c: number;
  /** Epoch milliseconds after which the state is equivalent to a fresh one. 0: fresh. */
  expiresAt: number;
}

export interface CounterAlgorithm {
  /** One-letter code passed to the Lua driver. */
  readonly code: string;
  /**
   * Decides a request of `cost` units at `nowMs`. Changes `state` only when `commit` is set, the
   * request is allowed and `cost` is positive; a fresh state has every field 0.
   */
  evaluate(state: CounterState, limit: LimitDefinition, nowMs: number, cost: number, commit: boolean): RateLimitDecision;
  /**
   * Lua source defining `<name>_check(key, now_us, limit, window_ms, burst, emission_us, cost)`
   * returning `{ allowed, remaining, reset_ms, retry_ms, s1, s2, s3 }` (s* = the state to write) and
   * `<name>_write(key, now_us, window_ms, r)`.
   */
  readonly lua: string;
  /** The Lua function name stem. */
  readonly luaName: string;
}

/** Builds a decision object; one shape everywhere keeps the call sites monomorphic. */
export function decision(allowed: boolean, limit: number, remaining: number, resetMs: number, retryAfterMs: number, reason: RateLimitDecision['reason']): RateLimitDecision {
  return { allowed, limit, remaining, resetMs, retryAfterMs, reason };
}
