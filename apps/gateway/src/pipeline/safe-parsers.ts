import { ApiError } from 'bulwark/errors';
import { createJsonParser, createQueryParser } from 'bulwark/http';
import type { SafeParsers } from './body.js';

/** One query parser for every route (bulwark/http's defaults: 256 parameters, 8 KiB, prototype keys refused). */
const parseQuery = createQueryParser();

/**
 * The safe parsers of one route, from bulwark/http: JSON through `createJsonParser` (size = the
 * route's body limit, depth, key count, prototype keys in every spelling) and the query string
 * through `createQueryParser` (flat, null-prototype, strict percent-decoding, bracket and dot
 * segments naming a prototype key refused).
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

/** Parses a query string safely; throws 400 `FORBIDDEN_KEY` or `QUERY_INVALID`. */
export function parseQueryStrict(raw: string): Readonly<Record<string, string | readonly string[]>> {
  const result = parseQuery(raw);
  if (!result.ok) throw new ApiError(result.code, { detail: result.detail });
  return result.value;
}
