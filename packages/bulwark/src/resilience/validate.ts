/**
 * Option checks shared by the breaker and the policies. Each throws a `TypeError` that names the
 * option and the allowed range, once, when a factory is called; nothing is re-checked per call.
 */

/** Shows a rejected value in a message without echoing an unbounded or multi-line string. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}

/** An integer in `[min, max]`, or `fallback` when `value` is undefined. */
export function integerIn(option: string, value: unknown, min: number, max: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${option} must be an integer from ${min} to ${max} (got ${describe(value)})`);
  }
  return value;
}

/** A finite number in `(min, max]` when `exclusiveMin`, else `[min, max]`, or `fallback` when undefined. */
export function numberIn(option: string, value: unknown, min: number, max: number, options: { exclusiveMin?: boolean; fallback?: number } = {}): number {
  if (value === undefined && options.fallback !== undefined) return options.fallback;
  const exclusiveMin = options.exclusiveMin ?? false;
  if (typeof value !== 'number' || !Number.isFinite(value) || (exclusiveMin ? value <= min : value < min) || value > max) {
    const range = exclusiveMin ? `greater than ${min} and at most ${max}` : `from ${min} to ${max}`;
    throw new TypeError(`${option} must be a number ${range} (got ${describe(value)})`);
  }
  return value;
}

/** A non-empty string of at most `maxLength` characters. */
export function nonEmptyString(option: string, value: unknown, maxLength: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new TypeError(`${option} must be a non-empty string of at most ${maxLength} characters (got ${describe(value)})`);
  }
  return value;
}

/** A function, or undefined. */
export function optionalFunction<F>(option: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new TypeError(`${option} must be a function (got ${describe(value)})`);
  return value as F;
}

/** Rejects keys the options type does not have: a typo (`resetTimeout`) must not be silently ignored. */
export function rejectUnknownKeys(option: string, value: object, known: ReadonlySet<string>): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw new TypeError(`${option} has an unknown option ${describe(key)}; known options: ${[...known].join(', ')}`);
  }
}

/** A plain object (not null, not an array), or throws naming `option`. */
export function objectOption(option: string, value: unknown): object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${option} must be an object (got ${describe(value)})`);
  }
  return value;
}
