/**
 * Is this unsafe request from our own site? Decided on Fetch Metadata first and the `Origin` header
 * second, never on the `Content-Type`: a "simple" cross-site request (an HTML form, or `fetch` with
 * `no-cors`) can carry any body under `text/plain` or no type at all, so a check that trusts a JSON
 * content type, or skips requests without one, is a bypass.
 *
 * The rules (those of Go's `http.CrossOriginProtection`, which follows the same reasoning):
 * 1. `Sec-Fetch-Site: same-origin` or `none` (typed by the user, a bookmark) → ours.
 *    `same-site` → ours only with `allowSameSite` (a sibling subdomain is a different origin, and
 *    can be less trusted: user content, a forgotten marketing site). `cross-site` or anything else →
 *    not ours, unless the `Origin` is explicitly trusted.
 * 2. No `Sec-Fetch-Site` (browsers before 2023, or not a browser): the `Origin` header's host must be
 *    the request's `Host`, or the origin must be trusted. `Origin: null` (sandboxed frames, privacy
 *    redirects) is never ours.
 * 3. Neither header: not a browser request (browsers send `Origin` on every cross-origin unsafe
 *    request), so there is nothing to forge with; allowed. The session-bound token still applies.
 */
import type { HeaderBag } from './types.js';

export interface OriginPolicy {
  /** Origins (`https://admin.example.com`) allowed to send unsafe requests besides the request's own. */
  readonly trustedOrigins: ReadonlySet<string>;
  readonly allowSameSite: boolean;
}

/** Normalises an origin option (`scheme://host[:port]`, nothing else). @throws TypeError */
export function normalizeOrigin(factory: string, origin: unknown): string {
  if (typeof origin !== 'string') throw new TypeError(`${factory}: trustedOrigins entries must be strings`);
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new TypeError(`${factory}: trustedOrigins entry ${JSON.stringify(origin)} is not a URL`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== origin.replace(/\/$/, '').toLowerCase()) {
    throw new TypeError(`${factory}: trustedOrigins entry ${JSON.stringify(origin)} must be an origin like https://app.example.com (scheme, host and port only)`);
  }
  return url.origin;
}

/** Whether the request comes from the application's own site (or a trusted origin). Never throws. */
export function isSameOriginRequest(headers: HeaderBag, policy: OriginPolicy): boolean {
  const fetchSite = single(headers['sec-fetch-site'])?.toLowerCase();
  const origin = single(headers.origin);
  if (fetchSite !== undefined) {
    if (fetchSite === 'same-origin' || fetchSite === 'none') return true;
    if (fetchSite === 'same-site' && policy.allowSameSite) return true;
    return origin !== undefined && isTrusted(origin, policy);
  }
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  return isTrusted(origin, policy) || matchesHost(origin, single(headers.host));
}

function isTrusted(origin: string, policy: OriginPolicy): boolean {
  if (policy.trustedOrigins.size === 0) return false;
  const parsed = parseOrigin(origin);
  return parsed !== undefined && policy.trustedOrigins.has(parsed.origin);
}

function matchesHost(origin: string, host: string | undefined): boolean {
  if (host === undefined || host === '') return false;
  const parsed = parseOrigin(origin);
  if (parsed === undefined) return false;
  try {
    // Through URL on both sides, so `example.com:443` and `https://example.com` compare equal.
    return new URL(`${parsed.protocol}//${host}`).host === parsed.host;
  } catch {
    return false;
  }
}

function parseOrigin(origin: string): URL | undefined {
  if (origin.length > 2048) return undefined;
  try {
    const url = new URL(origin);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** A header that must appear once: repeated values are treated as absent-and-suspicious by the caller. */
function single(value: string | readonly string[] | undefined): string | undefined {
  if (typeof value === 'string') return value.trim();
  // Node joins most repeated headers with ', '; an array here means a header Node keeps as a list.
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0].trim();
  return undefined;
}
