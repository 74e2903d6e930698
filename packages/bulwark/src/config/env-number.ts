import { envSchema } from './env-schema.js';
import type { EnvSchema } from './env-schema.js';

export interface EnvIntegerOptions {
  /** Smallest accepted value. @default Number.MIN_SAFE_INTEGER */
  readonly min?: number;
  /** Largest accepted value. @default Number.MAX_SAFE_INTEGER */
  readonly max?: number;
  /** Value when the variable is unset (never when it is empty or invalid). @default none: required */
  readonly default?: number;
}

const INTEGER = /^-?\d{1,16}$/;

function checkBounds(factory: string, min: number, max: number, fallback: number | undefined): void {
  if (!Number.isSafeInteger(min)) throw new TypeError(`${factory}: min must be a safe integer, got ${String(min)}`);
  if (!Number.isSafeInteger(max)) throw new TypeError(`${factory}: max must be a safe integer, got ${String(max)}`);
  if (min > max) throw new TypeError(`${factory}: min (${min}) must not be greater than max (${max})`);
  if (fallback !== undefined && (!Number.isSafeInteger(fallback) || fallback < min || fallback > max)) {
    throw new TypeError(`${factory}: default must be an integer between ${min} and ${max}, got ${String(fallback)}`);
  }
}

function range(min: number, max: number): string {
  if (min === Number.MIN_SAFE_INTEGER && max === Number.MAX_SAFE_INTEGER) return '';
  if (max === Number.MAX_SAFE_INTEGER) return ` of at least ${min}`;
  if (min === Number.MIN_SAFE_INTEGER) return ` of at most ${max}`;
  return ` between ${min} and ${max}`;
}

/**
 * An integer written in decimal digits only. Rejects what `Number()` and `parseInt()` would let
 * through — `12abc`, `1e3`, `0x10`, `1.0`, ` 5`, `''`, `Infinity` — and values out of range, so the
 * result is never `NaN` and never a surprise.
 *
 * @example
 * const schema = z.object({ PORT: envInteger({ min: 1, max: 65535, default: 8080 }) });
 */
export function envInteger(options: EnvIntegerOptions = {}): EnvSchema<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = options;
  checkBounds('envInteger', min, max, options.default);
  const expects = `an integer${range(min, max)}`;
  return envSchema({
    expects,
    default: options.default === undefined ? undefined : { value: options.default, text: String(options.default) },
    parse(raw) {
      if (!INTEGER.test(raw)) return { ok: false, problem: `must be ${expects} (decimal digits only, no spaces, units or exponent)` };
      const value = Number(raw) + 0; // `+ 0` turns -0 into 0
      if (!Number.isSafeInteger(value) || value < min || value > max) return { ok: false, problem: `must be ${expects}` };
      return { ok: true, value };
    },
  });
}

export interface EnvDurationOptions {
  /** Shortest accepted duration in ms. @default 0 */
  readonly min?: number;
  /** Longest accepted duration in ms. @default Number.MAX_SAFE_INTEGER */
  readonly max?: number;
  /** Value when the variable is unset: milliseconds, or a duration string such as `'30s'`. @default none: required */
  readonly default?: number | string;
}

const DURATION = /^(\d{1,15})(ms|s|m|h)?$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `250ms`, `30s`, `5m`, `1h` or a plain integer of milliseconds; `undefined` for anything else. */
export function parseDurationMs(raw: string): number | undefined {
  const match = DURATION.exec(raw);
  if (match === null) return undefined;
  const amount = Number(match[1]);
  const value = amount * (UNIT_MS[match[2] ?? 'ms'] ?? 1);
  return Number.isSafeInteger(value) ? value : undefined;
}

function formatMs(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/**
 * A duration: `250ms`, `30s`, `5m`, `1h`, or a plain integer of milliseconds. The result is a
 * number of milliseconds. Whole amounts only (`1.5s` is refused; write `1500ms`), no spaces, lower
 * case units.
 *
 * @example
 * const schema = z.object({ SHUTDOWN_TIMEOUT_MS: envDuration({ min: 100, max: 60_000, default: '10s' }) });
 */
export function envDuration(options: EnvDurationOptions = {}): EnvSchema<number> {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = options;
  let fallback: number | undefined;
  if (options.default !== undefined) {
    fallback = typeof options.default === 'string' ? parseDurationMs(options.default) : options.default;
    if (fallback === undefined) throw new TypeError(`envDuration: default must be milliseconds or a duration such as '30s', got ${JSON.stringify(options.default)}`);
  }
  if (min < 0) throw new TypeError(`envDuration: min must be at least 0, got ${min}`);
  checkBounds('envDuration', min, max, fallback);
  const bounds = max === Number.MAX_SAFE_INTEGER ? `of at least ${formatMs(min)}` : `between ${formatMs(min)} and ${formatMs(max)}`;
  const expects = `a duration ${bounds} (e.g. 250ms, 30s, 5m, 1h, or milliseconds)`;
  return envSchema({
    expects,
    default: fallback === undefined ? undefined : { value: fallback, text: formatMs(fallback) },
    parse(raw) {
      const value = parseDurationMs(raw);
      if (value === undefined) return { ok: false, problem: `must be ${expects}: a whole number with an optional unit ms, s, m or h` };
      if (value < min || value > max) return { ok: false, problem: `must be a duration ${bounds}` };
      return { ok: true, value };
    },
  });
}
