/**
 * CORS as an exact allow-list of origins, with every response header computed at creation.
 *
 * The bugs this avoids are the usual ones: matching origins with `includes`/`endsWith`/unanchored
 * regexes (`https://example.com.evil.com`, `https://evil-example.com`), reflecting any origin with
 * credentials, allowing the `null` origin (sandboxed iframes and `file:` pages send it), forgetting
 * `Vary: Origin` (a cache then serves one origin's grant to another), and parsing lenient URLs whose
 * parser drops tabs or user-info. Incoming origins must be the exact serialised form a browser sends
 * (scheme, host, optional port), then are normalised the way URL does (lower-case host, default
 * port dropped) and looked up in a Map: no pattern matching anywhere.
 */
import type { Registry } from 'prom-client';
import { counterIn, defaultMetricsRegistry } from '../observability/metrics-registry.js';

export interface CorsPolicyOptions {
  /**
   * Allowed origins, exactly: `https://app.example.com`, `http://localhost:3000`. No wildcards or
   * patterns; the single entry `*` (any origin) is accepted only without `credentials`.
   */
  readonly origins: readonly string[];
  /** Methods allowed cross-origin. @default ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] */
  readonly methods?: readonly string[];
  /** Request headers allowed cross-origin (case-insensitive). @default ['Content-Type', 'Authorization', 'X-Request-ID'] */
  readonly allowedHeaders?: readonly string[];
  /** Response headers scripts may read. @default ['X-Request-ID', 'Retry-After', 'RateLimit', 'RateLimit-Policy'] */
  readonly exposedHeaders?: readonly string[];
  /** Allow cookies and HTTP authentication (`Access-Control-Allow-Credentials: true`). @default false */
  readonly credentials?: boolean;
  /** How long browsers may cache a preflight, 0…86400 (Chromium caps at 7200). @default 600 */
  readonly maxAgeSeconds?: number;
  /**
   * Development only: also allow `http://localhost:<port>`, `http://127.0.0.1:<port>` and
   * `http://[::1]:<port>` for these ports. Pass it only outside production.
   * @default undefined
   */
  readonly development?: { readonly localhostPorts: readonly number[] };
  /** Where `cors_rejected_total{reason}` is counted. @default defaultMetricsRegistry() */
  readonly registry?: Registry;
}

/** Why a request was not granted CORS. `no-origin` is not a rejection: the request is not cross-origin. */
export type CorsRefusal =
  | 'no-origin'
  | 'null-origin'
  | 'malformed-origin'
  | 'origin-not-allowed'
  | 'missing-request-method'
  | 'method-not-allowed'
  | 'header-not-allowed';

export type CorsDecision =
  | { readonly allowed: true; readonly headers: Readonly<Record<string, string>> }
  | { readonly allowed: false; readonly reason: CorsRefusal; readonly headers: Readonly<Record<string, string>> };

export interface CorsPolicy {
  /** Decides an `OPTIONS` preflight: `Origin`, `Access-Control-Request-Method`, `Access-Control-Request-Headers`. */
  preflight(origin: string | undefined, requestMethod: string | undefined, requestHeaders: string | readonly string[] | undefined): CorsDecision;
  /** Decides an actual request: the headers to add, or why none are. */
  actual(origin: string | undefined): CorsDecision;
  /** The allowed origins in normalised form (development ones included). */
  readonly origins: readonly string[];
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// The serialised origin a browser sends: scheme "://" host [":" port]. ASCII only (IDNs arrive as
// punycode); no path, user-info, whitespace or backslash, all of which URL parsers reinterpret.
const SERIALISED_ORIGIN = /^https?:\/\/[A-Za-z0-9.\-[\]:]+$/i;
const MAX_REQUEST_HEADERS = 64;

/**
 * Creates a CORS policy; all header values are computed here, once per allowed origin.
 *
 * @throws TypeError naming the option for an origin that is not a plain http(s) origin, a wildcard
 *   with credentials, a malformed method or header name, or an out-of-range max age.
 * @example
 * const cors = createCorsPolicy({ origins: ['https://app.example.com'], credentials: true });
 * const decision = cors.actual(req.headers.origin);
 * for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
 */
export function createCorsPolicy(options: CorsPolicyOptions): CorsPolicy {
  if (options === null || typeof options !== 'object' || !Array.isArray(options.origins)) throw new TypeError('origins must be an array of origins');
  const credentials = options.credentials ?? false;
  const anyOrigin = options.origins.length === 1 && options.origins[0] === '*';
  if (anyOrigin && credentials) throw new TypeError('origins: "*" cannot be combined with credentials; list the origins exactly');
  const origins = anyOrigin ? [] : options.origins.map((origin) => normaliseConfiguredOrigin(origin));
  for (const port of options.development?.localhostPorts ?? []) {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new TypeError(`development.localhostPorts: ${String(port)} is not a port (1…65535)`);
    origins.push(`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`);
  }
  const methods = tokenList('methods', options.methods ?? ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).map((method) => method.toUpperCase());
  const allowedHeaders = tokenList('allowedHeaders', options.allowedHeaders ?? ['Content-Type', 'Authorization', 'X-Request-ID']);
  const exposedHeaders = tokenList('exposedHeaders', options.exposedHeaders ?? ['X-Request-ID', 'Retry-After', 'RateLimit', 'RateLimit-Policy']);
  const maxAgeSeconds = options.maxAgeSeconds ?? 600;
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0 || maxAgeSeconds > 86_400) throw new TypeError('maxAgeSeconds must be an integer between 0 and 86400');

  const methodSet = new Set(methods);
  const headerSet = new Set(allowedHeaders.map((name) => name.toLowerCase()));
  const rejected = counterIn(options.registry ?? defaultMetricsRegistry(), {
    name: 'cors_rejected_total',
    help: 'Cross-origin requests refused by a CORS policy, by reason.',
    labelNames: ['reason'],
  });

  const decisionsFor = (allowOrigin: string) => {
    const common: Record<string, string> = { 'Access-Control-Allow-Origin': allowOrigin, Vary: 'Origin' };
    if (credentials) common['Access-Control-Allow-Credentials'] = 'true';
    const actual: Record<string, string> = { ...common };
    if (exposedHeaders.length > 0) actual['Access-Control-Expose-Headers'] = exposedHeaders.join(', ');
    const preflight: Record<string, string> = { ...common, 'Access-Control-Allow-Methods': methods.join(', '), 'Access-Control-Max-Age': String(maxAgeSeconds) };
    if (allowedHeaders.length > 0) preflight['Access-Control-Allow-Headers'] = allowedHeaders.join(', ');
    return {
      actual: Object.freeze({ allowed: true, headers: Object.freeze(actual) }) as CorsDecision,
      preflight: Object.freeze({ allowed: true, headers: Object.freeze(preflight) }) as CorsDecision,
    };
  };
  const byOrigin = new Map(origins.map((origin) => [origin, decisionsFor(origin)] as const));
  const wildcard = anyOrigin ? decisionsFor('*') : undefined;
  const refusals = new Map<CorsRefusal, CorsDecision>();
  const refuse = (reason: CorsRefusal): CorsDecision => {
    if (reason !== 'no-origin') rejected.inc({ reason });
    let decision = refusals.get(reason);
    if (decision === undefined) {
      decision = Object.freeze({ allowed: false, reason, headers: VARY_ONLY });
      refusals.set(reason, decision);
    }
    return decision;
  };

  const lookup = (origin: string | undefined): ReturnType<typeof decisionsFor> | CorsRefusal => {
    if (origin === undefined || origin === '') return 'no-origin';
    if (origin === 'null') return 'null-origin';
    const exact = byOrigin.get(origin);
    if (exact !== undefined) return exact;
    const normalised = normaliseRequestOrigin(origin);
    if (normalised === undefined) return 'malformed-origin';
    return byOrigin.get(normalised) ?? wildcard ?? 'origin-not-allowed';
  };

  return Object.freeze({
    origins: Object.freeze([...byOrigin.keys()]),
    actual(origin: string | undefined): CorsDecision {
      const found = lookup(origin);
      return typeof found === 'string' ? refuse(found) : found.actual;
    },
    preflight(origin: string | undefined, requestMethod: string | undefined, requestHeaders: string | readonly string[] | undefined): CorsDecision {
      const found = lookup(origin);
      if (typeof found === 'string') return refuse(found);
      if (typeof requestMethod !== 'string' || requestMethod === '') return refuse('missing-request-method');
      if (!methodSet.has(requestMethod.toUpperCase())) return refuse('method-not-allowed');
      if (requestHeaders !== undefined && !headersAllowed(requestHeaders, headerSet)) return refuse('header-not-allowed');
      return found.preflight;
    },
  });
}

const VARY_ONLY: Readonly<Record<string, string>> = Object.freeze({ Vary: 'Origin' });

/** Whether every name in `Access-Control-Request-Headers` is allowed (case-insensitive). */
function headersAllowed(requestHeaders: string | readonly string[], allowed: ReadonlySet<string>): boolean {
  const names = (typeof requestHeaders === 'string' ? requestHeaders : requestHeaders.join(',')).split(',');
  if (names.length > MAX_REQUEST_HEADERS) return false;
  for (const raw of names) {
    const name = raw.trim().toLowerCase();
    if (name !== '' && !allowed.has(name)) return false;
  }
  return true;
}

/** A request's `Origin` in normalised form, or `undefined` when it is not a serialised http(s) origin. */
function normaliseRequestOrigin(origin: string): string | undefined {
  if (origin.length > 300 || !SERIALISED_ORIGIN.test(origin)) return undefined;
  try {
    const url = new URL(origin);
    return url.username === '' && url.password === '' && url.pathname === '/' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** A configured origin in normalised form; a trailing `/` is tolerated, anything more is refused. */
function normaliseConfiguredOrigin(origin: unknown): string {
  const text = typeof origin === 'string' && origin.endsWith('/') ? origin.slice(0, -1) : origin;
  const normalised = typeof text === 'string' ? normaliseRequestOrigin(text) : undefined;
  if (normalised === undefined) {
    throw new TypeError(`origins: ${JSON.stringify(origin)} is not an origin like https://app.example.com (scheme, host and optional port; no path, wildcard or "null")`);
  }
  return normalised;
}

function tokenList(name: string, list: readonly string[]): string[] {
  if (!Array.isArray(list)) throw new TypeError(`${name} must be an array of header or method names`);
  for (const item of list) if (typeof item !== 'string' || !TOKEN.test(item)) throw new TypeError(`${name}: ${JSON.stringify(item)} is not a valid token`);
  return [...new Set(list)];
}
