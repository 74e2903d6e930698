/** Option checks shared by the verifiers of this module: each throws a `TypeError` naming the option. */

/** `value`, or `fallback` when undefined; an integer within `min`…`max` or a `TypeError`. */
export function integerOption(value: number | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} must be an integer between ${min} and ${max}, got ${String(value)}`);
  }
  return value;
}

/** `value`, or `fallback` when undefined; a boolean or a `TypeError`. */
export function booleanOption(value: boolean | undefined, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be true or false, got ${String(value)}`);
  return value;
}
