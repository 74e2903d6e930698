/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, numbers and strings as
 * `JSON.stringify` writes them — so equal values always give identical text, the property a hash
 * chain needs. For the JSON subset only (which is what the audit log stores); like RFC 8785 (JCS)
 * for everything but exotic number formatting, which cannot occur in values parsed from JSON text.
 *
 * Hand-written: twenty lines, no dependency, and the input is first normalised through
 * `JSON.parse(JSON.stringify(value))`, so `toJSON`, `undefined` and functions behave exactly as in
 * `JSON.stringify`.
 */

function write(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(write).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${write(record[key])}`).join(',')}}`;
}

/**
 * The canonical JSON text of `value`, or `undefined` for a value JSON cannot represent at top level.
 * @throws TypeError for values `JSON.stringify` rejects (BigInt, cycles).
 */
export function canonicalJson(value: unknown): string | undefined {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`value is not JSON-serialisable: ${error instanceof Error ? error.message : String(error)}`);
  }
  return text === undefined ? undefined : write(JSON.parse(text));
}
