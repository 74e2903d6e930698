import { describe } from './validate.js';

/** The environment variables that set breaker defaults, with their allowed ranges and defaults. */
export const BREAKER_ENV = Object.freeze({
  failureThreshold: { variable: 'BULWARK_BREAKER_FAILURE_THRESHOLD', min: 1, max: 1000, fallback: 5 },
  resetTimeoutMs: { variable: 'BULWARK_BREAKER_RESET_TIMEOUT_MS', min: 100, max: 3_600_000, fallback: 30_000 },
  halfOpenRequests: { variable: 'BULWARK_BREAKER_HALF_OPEN_REQUESTS', min: 1, max: 100, fallback: 3 },
});

/** Breaker defaults taken from the environment (or built in). */
export interface BreakerEnvDefaults {
  /** Consecutive failures that open a breaker. @default 5 */
  readonly failureThreshold: number;
  /** Milliseconds an open breaker waits before letting probes through. @default 30000 */
  readonly resetTimeoutMs: number;
  /** Probes a half-open breaker lets through. @default 3 */
  readonly halfOpenRequests: number;
}

/** Digits only: no sign, no exponent, no decimal point, no whitespace, no hex. */
const DIGITS = /^[0-9]{1,16}$/;

function parse(env: Readonly<Record<string, string | undefined>>, spec: { variable: string; min: number; max: number; fallback: number }): number {
  const raw = env[spec.variable];
  if (raw === undefined) return spec.fallback;
  const value = DIGITS.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < spec.min || value > spec.max) {
    throw new TypeError(`${spec.variable} must be an integer from ${spec.min} to ${spec.max} (got ${describe(raw)})`);
  }
  return value;
}

/**
 * Reads the breaker defaults from the environment, strictly: `12abc`, `1.5`, `1e3`, ` 5`, an empty
 * string and values out of range throw a `TypeError` naming the variable and its range, so that a
 * bad deployment stops at start-up instead of running with a surprising threshold. Unset variables
 * take the built-in defaults.
 *
 * | variable | range | default |
 * |---|---|---|
 * | `BULWARK_BREAKER_FAILURE_THRESHOLD` | 1–1000 | 5 |
 * | `BULWARK_BREAKER_RESET_TIMEOUT_MS` | 100–3 600 000 | 30 000 |
 * | `BULWARK_BREAKER_HALF_OPEN_REQUESTS` | 1–100 | 3 |
 *
 * @example
 * const defaults = breakerDefaultsFromEnv(); // at start-up
 * const registry = createBreakerRegistry({ maxSize: 10_000, defaults: { service: 'redis', ...defaults } });
 */
export function breakerDefaultsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): BreakerEnvDefaults {
  return {
    failureThreshold: parse(env, BREAKER_ENV.failureThreshold),
    resetTimeoutMs: parse(env, BREAKER_ENV.resetTimeoutMs),
    halfOpenRequests: parse(env, BREAKER_ENV.halfOpenRequests),
  };
}
