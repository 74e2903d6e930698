import { PROBLEM_CONTENT_TYPE, type ProblemResponse } from './problem.js';

/** Headers of a previous (abandoned) response that would misdescribe the problem document. */
export const STALE_CONTENT_HEADERS: readonly string[] = Object.freeze([
  'content-encoding',
  'content-language',
  'content-range',
  'content-disposition',
  'content-length',
  'etag',
  'last-modified',
]);

/** Header names (RFC 9110 token) and values (no CR, LF or NUL) that Node will accept. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const HEADER_VALUE = /^[^\u0000\r\n]*$/;

/**
 * The headers of a problem response: the error's own (`Retry-After`, `RateLimit` …), then the
 * content type, `Cache-Control: no-store` (an error is about this request, never to be served to
 * another) and `X-Content-Type-Options: nosniff`. An error header with an invalid name or value is
 * dropped rather than allowed to make the error path itself throw; the fixed ones cannot be
 * overridden by an error.
 */
export function problemHeaders(problem: ProblemResponse): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(problem.headers)) {
    if (typeof value === 'string' && name !== '__proto__' && HEADER_NAME.test(name) && HEADER_VALUE.test(value)) headers[name.toLowerCase()] = value;
  }
  headers['content-type'] = PROBLEM_CONTENT_TYPE;
  headers['cache-control'] = 'no-store';
  headers['x-content-type-options'] = 'nosniff';
  return headers;
}
