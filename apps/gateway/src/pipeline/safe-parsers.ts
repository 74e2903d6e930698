import { ApiError } from 'bulwark/errors';
import { createJsonParser } from 'bulwark/http';
import type { SafeParsers } from './body.js';

/** Most parameters a query may carry; more is an attack on whatever parses it next. */
const MAX_QUERY_PARAMETERS = 256;
/** Key segments that pollute prototypes in the bracket / dot syntaxes of qs-like parsers. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * The safe parsers of one route: JSON through bulwark/http's `createJsonParser` (size = the route's
 * body limit, depth, key count, prototype keys in every spelling) and the query string through
 * {@link parseQueryStrict}.
 */
export function createSafeParsers(limitBytes: number): SafeParsers {
  const parseJson = createJsonParser({ maxBytes: limitBytes });
  return {
    json(body) {
      const result = parseJson(body);
      if (!result.ok) throw new ApiError(result.code, { detail: result.detail });
      return result.value;
    },
    query: parseQueryStrict,
  };
}

/**
 * Parses a query string into a null-prototype object, refusing (400 FORBIDDEN_KEY) any key whose
 * bracket or dot segments name `__proto__`, `prototype` or `constructor` (`a[__proto__][x]=1`,
 * `constructor.prototype.y=1`): the upstream may hand the query to a qs-style parser that would
 * follow them. More than 256 parameters is 400 QUERY_INVALID.
 */
export function parseQueryStrict(raw: string): Readonly<Record<string, string | readonly string[]>> {
  const out = Object.create(null) as Record<string, string | string[]>;
  let count = 0;
  for (const [key, value] of new URLSearchParams(raw)) {
    count += 1;
    if (count > MAX_QUERY_PARAMETERS) throw new ApiError('QUERY_INVALID', { detail: `The query has more than ${MAX_QUERY_PARAMETERS} parameters.` });
    if (hasForbiddenSegment(key)) throw new ApiError('FORBIDDEN_KEY', { detail: 'The query contains a forbidden parameter name.' });
    const previous = out[key];
    if (previous === undefined) out[key] = value;
    else if (typeof previous === 'string') out[key] = [previous, value];
    else previous.push(value);
  }
  return out;
}

function hasForbiddenSegment(key: string): boolean {
  if (!key.includes('proto') && !key.includes('constructor')) return false;
  for (const segment of key.split(/[[\].]/)) {
    if (FORBIDDEN_SEGMENTS.has(segment.trim())) return true;
  }
  return false;
}
