/** Option checks shared by the session factories: they validate once and throw a TypeError naming the option. */

/** An integer option in `min…max`, or `fallback` when absent. */
export function integerIn(factory: string, name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new TypeError(`${factory}: ${name} must be an integer between ${min} and ${max}, got ${describe(value)}`);
  }
  return value;
}

/** A short description of a wrong option value for an error message (never a secret's content). */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}
