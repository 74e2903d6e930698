/**
 * Paths that different servers read differently are refused before routing (400 PATH_INVALID):
 * `/public/../admin` matches the `/public` route here but may reach `/admin` upstream once the
 * upstream normalises it. Refused: dot segments (also `..;` as Tomcat reads it), encoded dots,
 * slashes, backslashes and NUL, raw backslashes, a fragment (`#`), empty segments (`//`),
 * anything not starting with `/` (absolute-form and asterisk-form targets), and malformed escapes:
 * `%zz`, a lone `%`, and escaped bytes that are not UTF-8 (`%c0%ae` is an overlong `.` that a
 * lenient decoder reads as a dot).
 */
export function isUnambiguousPath(path: string): boolean {
  if (path.length === 0 || path.charCodeAt(0) !== 0x2f /* / */) return false;
  let escaped = false;
  for (let i = 0; i < path.length; i += 1) {
    const code = path.charCodeAt(i);
    // `#` cannot appear in a request target (RFC 9112 §3.2), but Node passes it on: upstreams
    // (Express, Fastify) then read `/admin#x` as `/admin`, which the router did not.
    if (code === 0x5c /* \ */ || code === 0x23 /* # */ || code < 0x21 || code === 0x7f) return false;
    if (code === 0x2f /* / */) {
      const next = path.charCodeAt(i + 1);
      if (next === 0x2f) return false;
      if (next === 0x2e /* . */ && isDotSegment(path, i + 1)) return false;
    } else if (code === 0x25 /* % */) {
      const encoded = path.slice(i + 1, i + 3).toLowerCase();
      if (encoded === '2e' || encoded === '2f' || encoded === '5c' || encoded === '00') return false;
      escaped = true;
    }
  }
  return !escaped || isWellFormedEscaping(path);
}

/**
 * Whether every `%` starts a two-digit escape and the escaped bytes are UTF-8. Only paths with an
 * escape pay for it. `decodeURIComponent` implements exactly that check (URIError on a bad escape,
 * an overlong or surrogate sequence, or a truncated multi-byte character).
 */
function isWellFormedEscaping(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether the segment starting at `start` is `.` or `..`, alone or followed by `;parameters`. */
function isDotSegment(path: string, start: number): boolean {
  let end = start;
  while (end < path.length && path.charCodeAt(end) === 0x2e) end += 1;
  const dots = end - start;
  if (dots > 2) return false;
  return end === path.length || path.charCodeAt(end) === 0x2f || path.charCodeAt(end) === 0x3b /* ; */;
}
