/**
 * Reading header fields from whatever a framework hands over: Node's `IncomingHttpHeaders` (values
 * joined or, with `headersDistinct`, one array entry per field line), a plain record a test builds
 * by hand with mixed-case names, or a WHATWG `Headers` object.
 */

/** A `Headers`-like object: `fetch`'s `Headers`, undici's, or anything with a case-insensitive `get`. */
export interface HeadersLike {
  get(name: string): string | null;
}

/** The header values a verifier accepts. Names are matched case-insensitively. */
export type HeaderBag = HeadersLike | Readonly<Record<string, string | readonly string[] | number | undefined>>;

/**
 * The field lines of header `name` (lower-case), or `undefined` when it is absent. A string is one
 * line; an array (Node's `headersDistinct`, or a repeated header) is one line per entry; non-string
 * entries are ignored. Never throws, whatever the bag holds.
 */
export function headerLines(headers: HeaderBag | undefined, name: string): readonly string[] | undefined {
  if (headers === undefined || headers === null || typeof headers !== 'object') return undefined;
  if (typeof (headers as HeadersLike).get === 'function' && !Array.isArray(headers)) {
    const value = (headers as HeadersLike).get(name);
    return typeof value === 'string' ? [value] : undefined;
  }
  const record = headers as Readonly<Record<string, unknown>>;
  let value: unknown = Object.hasOwn(record, name) ? record[name] : undefined;
  if (value === undefined) {
    // Hand-built records may use `Content-Digest` rather than Node's lower-case `content-digest`.
    for (const key of Object.keys(record)) {
      if (key.length === name.length && key.toLowerCase() === name) {
        value = record[key];
        break;
      }
    }
  }
  if (typeof value === 'string') return [value];
  if (typeof value === 'number') return [String(value)];
  if (Array.isArray(value)) {
    const lines = value.filter((line): line is string => typeof line === 'string');
    return lines.length === 0 ? undefined : lines;
  }
  return undefined;
}

/**
 * Header `name` as one value: several field lines are combined with `, ` (RFC 9110 §5.3), each
 * trimmed of surrounding whitespace. `undefined` when absent.
 */
export function combinedHeader(headers: HeaderBag | undefined, name: string): string | undefined {
  const lines = headerLines(headers, name);
  if (lines === undefined) return undefined;
  return lines.length === 1 ? (lines[0] as string).trim() : lines.map((line) => line.trim()).join(', ');
}

/**
 * Header `name` as exactly one field line, for headers that must not repeat (webhook ids,
 * timestamps): `undefined` when absent, `null` when sent more than once.
 */
export function singleHeader(headers: HeaderBag | undefined, name: string): string | undefined | null {
  const lines = headerLines(headers, name);
  if (lines === undefined) return undefined;
  return lines.length === 1 ? (lines[0] as string) : null;
}
