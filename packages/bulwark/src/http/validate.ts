/** Option validation shared by the http factories: they validate once and throw a TypeError naming the option. */

/** `value`, or `fallback` when undefined; throws a TypeError unless it is an integer in `min…max`. */
export function integerOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} must be an integer between ${min} and ${max}, got ${String(value)}`);
  }
  return value;
}
