/**
 * Safe query-string parsing: a flat, prototype-less record with bounded size, strict percent-decoding
 * and the same forbidden keys as JSON bodies.
 *
 * Deliberately NOT supported: `a[b]=1` / `a.b=1` expansion into nested objects (the `qs` behaviour
 * behind a decade of prototype-pollution and parameter-explosion advisories). Such keys stay flat
 * strings; a key whose bracket or dot segments name a forbidden key (`a[__proto__]`,
 * `constructor[prototype]`) is refused anyway, so that no later expander can be fed one.
 */
import { compileForbiddenKeys, defaultMatcher } from './forbidden-keys.js';
import type { ForbiddenKeyMatcher } from './forbidden-keys.js';
import { integerOption } from './validate.js';

export interface QueryParseOptions {
  /** Most `name=value` pairs accepted (empty pairs between `&&` are not counted). @default 256 */
  readonly maxParams?: number;
  /** Longest accepted query string, in characters, without the leading `?`. @default 8192 */
  readonly maxLength?: number;
  /** As for JSON: names refused anywhere, and `parent.child` pairs. `__proto__` is always refused. @default ['__proto__', 'prototype', 'constructor.prototype'] */
  readonly forbiddenKeys?: readonly string[];
}

/** A parsed query: one string per name, or an array when the name repeats (in order). */
export type QueryRecord = Record<string, string | string[]>;

export type QueryParseResult =
  | { readonly ok: true; readonly value: QueryRecord }
  | { readonly ok: false; readonly code: 'QUERY_INVALID' | 'FORBIDDEN_KEY'; readonly detail: string };

export type QueryParser = (search: string) => QueryParseResult;

export const QUERY_PARSE_DEFAULTS = Object.freeze({ maxParams: 256, maxLength: 8192 });

/**
 * Creates a query-string parser with validated options.
 *
 * Rules: a leading `?` is ignored; pairs are separated by `&`; `+` is a space; percent-escapes must
 * be complete and decode to well-formed UTF-8 (`%zz`, a lone `%`, `%C3` alone, or an encoded
 * surrogate → `QUERY_INVALID`); a decoded NUL is refused (`QUERY_INVALID`), since it truncates
 * strings in C libraries, file systems and some databases; pairs with an empty name are skipped; a
 * name without `=` has the value `""`. The record is created with `Object.create(null)`.
 *
 * @throws TypeError when an option is out of range.
 * @example
 * const parseQuery = createQueryParser({ maxParams: 50 });
 * parseQuery('?tag=a&tag=b&q=caf%C3%A9+au+lait'); // { ok: true, value: { tag: ['a', 'b'], q: 'café au lait' } }
 */
export function createQueryParser(options: QueryParseOptions = {}): QueryParser {
  const maxParams = integerOption('maxParams', options.maxParams, QUERY_PARSE_DEFAULTS.maxParams, 1, 100_000);
  const maxLength = integerOption('maxLength', options.maxLength, QUERY_PARSE_DEFAULTS.maxLength, 1, 1_048_576);
  const forbidden = options.forbiddenKeys === undefined ? defaultMatcher() : compileForbiddenKeys(options.forbiddenKeys, 'forbiddenKeys');

  return function parseQuery(search) {
    if (typeof search !== 'string') return invalid('Query string must be a string');
    const start = search.charCodeAt(0) === 0x3f /* ? */ ? 1 : 0;
    if (search.length - start > maxLength) return invalid(`Query string exceeds ${maxLength} characters`);
    const record: QueryRecord = Object.create(null) as QueryRecord;
    let params = 0;
    let position = start;
    while (position <= search.length) {
      let end = search.indexOf('&', position);
      if (end === -1) end = search.length;
      if (end > position) {
        const equals = search.indexOf('=', position);
        const hasValue = equals !== -1 && equals < end;
        const name = decodeComponent(search.slice(position, hasValue ? equals : end));
        const value = hasValue ? decodeComponent(search.slice(equals + 1, end)) : '';
        if (name === undefined || value === undefined) return invalid('Malformed percent-encoding in query string');
        if (name.includes('\u0000') || value.includes('\u0000')) return invalid('NUL character in query string');
        if (name.length > 0) {
          if (++params > maxParams) return invalid(`Query string has more than ${maxParams} parameters`);
          const refused = forbiddenSegment(name, forbidden);
          if (refused !== undefined) return { ok: false, code: 'FORBIDDEN_KEY', detail: `Forbidden key ${JSON.stringify(refused)} in query string` };
          const existing = record[name];
          if (existing === undefined) record[name] = value;
          else if (typeof existing === 'string') record[name] = [existing, value];
          else existing.push(value);
        }
      }
      position = end + 1;
    }
    return { ok: true, value: record };
  };
}

let defaultParser: QueryParser | undefined;
const parsersByOptions = new WeakMap<QueryParseOptions, QueryParser>();

/**
 * Parses a query string (`?a=1&b=2` or `a=1&b=2`) with the rules of {@link createQueryParser}. Never
 * throws on any input; parsers are cached per options object.
 *
 * @example
 * const result = parseQuerySafe(new URL(req.url, 'http://x').search);
 * if (!result.ok) throw new ApiError(result.code, { detail: result.detail });
 */
export function parseQuerySafe(search: string, options?: QueryParseOptions): QueryParseResult {
  if (options === undefined) {
    defaultParser ??= createQueryParser();
    return defaultParser(search);
  }
  let parser = parsersByOptions.get(options);
  if (parser === undefined) {
    parser = createQueryParser(options);
    parsersByOptions.set(options, parser);
  }
  return parser(search);
}

/** `+` → space, then strict percent-decoding; `undefined` when an escape is malformed. */
function decodeComponent(raw: string): string | undefined {
  const spaced = raw.includes('+') ? raw.replaceAll('+', ' ') : raw;
  if (!spaced.includes('%')) return spaced;
  try {
    // decodeURIComponent throws on incomplete escapes, invalid UTF-8 and encoded surrogates.
    return decodeURIComponent(spaced);
  } catch {
    return undefined;
  }
}

const SEGMENT_SEPARATORS = /[[\].]+/;

/**
 * The forbidden name a key contains as a whole or as a bracket/dot segment (`a[__proto__][x]`,
 * `a.__proto__`, `constructor[prototype]`), or `undefined`.
 */
function forbiddenSegment(name: string, matcher: ForbiddenKeyMatcher): string | undefined {
  if (matcher.names.has(name)) return name;
  if (!(name.includes('[') || name.includes('.'))) return undefined;
  const segments = name.split(SEGMENT_SEPARATORS);
  for (let index = 0; index < segments.length; index += 1) {
    const segment = segments[index] as string;
    if (matcher.names.has(segment)) return segment;
    const parentId = matcher.parentIds.get(segment);
    const next = segments[index + 1];
    if (parentId !== undefined && next !== undefined && matcher.childrenById[parentId]?.has(next) === true) return `${segment}.${next}`;
  }
  return undefined;
}

function invalid(detail: string): QueryParseResult {
  return { ok: false, code: 'QUERY_INVALID', detail };
}

