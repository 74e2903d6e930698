/**
 * The security response headers, computed once at start-up into a frozen record that every response
 * copies. Defaults are for APIs (nothing may be rendered, framed or fetched from a response); an HTML
 * application loosens the CSP directives it needs.
 *
 * Validation matters here because header values are concatenated: a directive value with `;`, `,`
 * or a line break would inject further directives or headers, so such options are refused.
 */

/** A CSP directive value: a source list (`["'self'", 'https://cdn.example']`), one string, or `true` for a valueless directive (`upgrade-insecure-requests`). */
export type CspDirectiveValue = readonly string[] | string | true;

export interface ContentSecurityPolicyOptions {
  /**
   * Directives, merged over the defaults; `false` removes a default directive.
   * @default { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"], 'base-uri': ["'none'"], 'form-action': ["'self'"] }
   */
  readonly directives?: Readonly<Record<string, CspDirectiveValue | false>>;
  /** Where browsers POST violation reports (`report-uri`, and the `Reporting-Endpoints` URL); `false` for none. @default '/csp-report' */
  readonly reportUri?: string | false;
  /** The Reporting API group name for `report-to`. @default 'csp-endpoint' */
  readonly reportToGroup?: string;
  /** Send `Content-Security-Policy-Report-Only` instead (observe before enforcing). @default false */
  readonly reportOnly?: boolean;
}

export interface StrictTransportSecurityOptions {
  /** @default 63072000 (two years) */
  readonly maxAgeSeconds?: number;
  /** @default true */
  readonly includeSubDomains?: boolean;
  /** Ask for inclusion in browsers' preload lists (needs includeSubDomains and ≥ 1 year). @default false */
  readonly preload?: boolean;
}

export type ReferrerPolicy =
  | 'no-referrer'
  | 'no-referrer-when-downgrade'
  | 'origin'
  | 'origin-when-cross-origin'
  | 'same-origin'
  | 'strict-origin'
  | 'strict-origin-when-cross-origin'
  | 'unsafe-url';

export interface SecurityHeadersOptions {
  /** `false` to send no CSP. @default API policy, see {@link ContentSecurityPolicyOptions} */
  readonly contentSecurityPolicy?: ContentSecurityPolicyOptions | false;
  /** `false` to send no HSTS (only when TLS is terminated elsewhere and HSTS is set there). @default { maxAgeSeconds: 63072000, includeSubDomains: true } */
  readonly strictTransportSecurity?: StrictTransportSecurityOptions | false;
  /** @default 'DENY' */
  readonly frameOptions?: 'DENY' | 'SAMEORIGIN' | false;
  /** @default 'no-referrer' */
  readonly referrerPolicy?: ReferrerPolicy | false;
  /**
   * Feature → allow-list (`[]` denies it, `['self']`, `['*']`, or quoted origins such as
   * `['"https://pay.example"']`), merged over the defaults; `false` removes a default.
   * @default every feature in {@link DEFAULT_DENIED_FEATURES} denied
   */
  readonly permissionsPolicy?: Readonly<Record<string, readonly string[] | false>> | false;
  /** @default 'same-origin' */
  readonly crossOriginOpenerPolicy?: 'same-origin' | 'same-origin-allow-popups' | 'unsafe-none' | false;
  /** @default 'same-origin' */
  readonly crossOriginResourcePolicy?: 'same-origin' | 'same-site' | 'cross-origin' | false;
  /** @default false (not sent: it breaks cross-origin images and scripts that do not opt in) */
  readonly crossOriginEmbedderPolicy?: 'require-corp' | 'credentialless' | false;
  /** `X-DNS-Prefetch-Control: off`. @default true */
  readonly disableDnsPrefetch?: boolean;
}

/** Powerful features denied by the default Permissions-Policy: an API response needs none of them. */
export const DEFAULT_DENIED_FEATURES: readonly string[] = Object.freeze([
  'accelerometer',
  'autoplay',
  'bluetooth',
  'browsing-topics',
  'camera',
  'display-capture',
  'encrypted-media',
  'fullscreen',
  'geolocation',
  'gyroscope',
  'hid',
  'idle-detection',
  'magnetometer',
  'microphone',
  'midi',
  'payment',
  'picture-in-picture',
  'publickey-credentials-get',
  'screen-wake-lock',
  'serial',
  'usb',
  'xr-spatial-tracking',
]);

const DEFAULT_CSP_DIRECTIVES: Readonly<Record<string, CspDirectiveValue>> = Object.freeze({
  'default-src': ["'none'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
});

const DIRECTIVE_NAME = /^[a-z][a-z0-9-]*$/;
// A source expression or URL: visible ASCII without the separators that would start another
// directive (`;`), another policy (`,`) or another header (line breaks are not visible ASCII).
const DIRECTIVE_VALUE = /^[!-+\--:<-~]+$/;
const FEATURE_NAME = /^[a-z][a-z0-9-]*$/;
const ALLOWLIST_ITEM = /^(?:self|\*|src|"https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?")$/;
const GROUP_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const REFERRER_POLICIES = new Set<string>([
  'no-referrer',
  'no-referrer-when-downgrade',
  'origin',
  'origin-when-cross-origin',
  'same-origin',
  'strict-origin',
  'strict-origin-when-cross-origin',
  'unsafe-url',
]);

/**
 * Builds the security headers once; send the returned frozen record on every response. Names are in
 * their canonical case.
 *
 * @throws TypeError naming the option when a value is out of range or could inject into the header.
 * @example
 * const securityHeaders = buildSecurityHeaders({ contentSecurityPolicy: { reportUri: '/csp-report' } });
 * server.on('request', (req, res) => { for (const [name, value] of Object.entries(securityHeaders)) res.setHeader(name, value); });
 */
export function buildSecurityHeaders(options: SecurityHeadersOptions = {}): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};

  if (options.contentSecurityPolicy !== false) {
    const csp = options.contentSecurityPolicy ?? {};
    const policy = contentSecurityPolicy(csp);
    headers[csp.reportOnly === true ? 'Content-Security-Policy-Report-Only' : 'Content-Security-Policy'] = policy.value;
    if (policy.reportingEndpoints !== undefined) headers['Reporting-Endpoints'] = policy.reportingEndpoints;
  }

  if (options.strictTransportSecurity !== false) headers['Strict-Transport-Security'] = strictTransportSecurity(options.strictTransportSecurity ?? {});

  const frameOptions = options.frameOptions ?? 'DENY';
  if (frameOptions !== false) {
    if (frameOptions !== 'DENY' && frameOptions !== 'SAMEORIGIN') throw new TypeError('frameOptions must be "DENY", "SAMEORIGIN" or false');
    headers['X-Frame-Options'] = frameOptions;
  }

  headers['X-Content-Type-Options'] = 'nosniff';

  const referrerPolicy = options.referrerPolicy ?? 'no-referrer';
  if (referrerPolicy !== false) {
    if (!REFERRER_POLICIES.has(referrerPolicy)) throw new TypeError(`referrerPolicy must be one of ${[...REFERRER_POLICIES].join(', ')} or false`);
    headers['Referrer-Policy'] = referrerPolicy;
  }

  if (options.permissionsPolicy !== false) {
    const value = permissionsPolicy(options.permissionsPolicy ?? {});
    if (value !== '') headers['Permissions-Policy'] = value;
  }

  const opener = options.crossOriginOpenerPolicy ?? 'same-origin';
  if (opener !== false) headers['Cross-Origin-Opener-Policy'] = oneOf('crossOriginOpenerPolicy', opener, ['same-origin', 'same-origin-allow-popups', 'unsafe-none']);
  const resource = options.crossOriginResourcePolicy ?? 'same-origin';
  if (resource !== false) headers['Cross-Origin-Resource-Policy'] = oneOf('crossOriginResourcePolicy', resource, ['same-origin', 'same-site', 'cross-origin']);
  const embedder = options.crossOriginEmbedderPolicy ?? false;
  if (embedder !== false) headers['Cross-Origin-Embedder-Policy'] = oneOf('crossOriginEmbedderPolicy', embedder, ['require-corp', 'credentialless']);

  if (options.disableDnsPrefetch ?? true) headers['X-DNS-Prefetch-Control'] = 'off';

  return Object.freeze(headers);
}

function contentSecurityPolicy(options: ContentSecurityPolicyOptions): { value: string; reportingEndpoints?: string } {
  const directives = new Map<string, CspDirectiveValue>(Object.entries(DEFAULT_CSP_DIRECTIVES));
  for (const [name, value] of Object.entries(options.directives ?? {})) {
    if (!DIRECTIVE_NAME.test(name)) throw new TypeError(`contentSecurityPolicy.directives: ${JSON.stringify(name)} is not a directive name`);
    if (name === 'report-uri' || name === 'report-to') throw new TypeError(`contentSecurityPolicy.directives: set ${name} with the reportUri / reportToGroup options`);
    if (value === false) directives.delete(name);
    else directives.set(name, value);
  }
  const parts: string[] = [];
  for (const [name, value] of directives) {
    if (value === true) {
      parts.push(name);
      continue;
    }
    const sources = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(sources) || sources.length === 0) throw new TypeError(`contentSecurityPolicy.directives.${name} must be a non-empty list of sources, a string or true`);
    for (const source of sources) {
      if (typeof source !== 'string' || !DIRECTIVE_VALUE.test(source)) {
        throw new TypeError(`contentSecurityPolicy.directives.${name}: ${JSON.stringify(source)} is not a valid source expression (no spaces, ";", "," or control characters)`);
      }
    }
    parts.push(`${name} ${sources.join(' ')}`);
  }
  const reportUri = options.reportUri ?? '/csp-report';
  if (reportUri === false) return { value: parts.join('; ') };
  if (typeof reportUri !== 'string' || !DIRECTIVE_VALUE.test(reportUri) || reportUri.includes('"') || !(reportUri.startsWith('/') || /^https:\/\//.test(reportUri))) {
    throw new TypeError('contentSecurityPolicy.reportUri must be a path starting with "/" or an https:// URL, without spaces, quotes, ";" or ","');
  }
  const group = options.reportToGroup ?? 'csp-endpoint';
  if (!GROUP_NAME.test(group)) throw new TypeError('contentSecurityPolicy.reportToGroup must be 1–64 letters, digits, "-" or "_"');
  // report-uri for browsers without the Reporting API, report-to for those with it.
  parts.push(`report-uri ${reportUri}`, `report-to ${group}`);
  return { value: parts.join('; '), reportingEndpoints: `${group}="${reportUri}"` };
}

function strictTransportSecurity(options: StrictTransportSecurityOptions): string {
  const maxAge = options.maxAgeSeconds ?? 63_072_000;
  if (!Number.isInteger(maxAge) || maxAge < 0 || maxAge > 63_072_000 * 5) {
    throw new TypeError('strictTransportSecurity.maxAgeSeconds must be an integer between 0 and 315360000');
  }
  const includeSubDomains = options.includeSubDomains ?? true;
  const preload = options.preload ?? false;
  if (preload && (!includeSubDomains || maxAge < 31_536_000)) {
    throw new TypeError('strictTransportSecurity.preload needs includeSubDomains and maxAgeSeconds ≥ 31536000 (the preload list requirements)');
  }
  return `max-age=${maxAge}${includeSubDomains ? '; includeSubDomains' : ''}${preload ? '; preload' : ''}`;
}

function permissionsPolicy(overrides: Readonly<Record<string, readonly string[] | false>>): string {
  const features = new Map<string, readonly string[]>(DEFAULT_DENIED_FEATURES.map((feature) => [feature, []]));
  for (const [feature, allowlist] of Object.entries(overrides)) {
    if (!FEATURE_NAME.test(feature)) throw new TypeError(`permissionsPolicy: ${JSON.stringify(feature)} is not a feature name`);
    if (allowlist === false) {
      features.delete(feature);
      continue;
    }
    if (!Array.isArray(allowlist) || allowlist.some((item) => typeof item !== 'string' || !ALLOWLIST_ITEM.test(item))) {
      throw new TypeError(`permissionsPolicy.${feature} must list self, *, src or quoted origins such as "https://pay.example"`);
    }
    features.set(feature, allowlist);
  }
  return [...features].map(([feature, allowlist]) => `${feature}=${allowlist.length === 1 && allowlist[0] === '*' ? '*' : `(${allowlist.join(' ')})`}`).join(', ');
}

function oneOf<T extends string>(name: string, value: T, allowed: readonly string[]): T {
  if (!allowed.includes(value)) throw new TypeError(`${name} must be one of ${allowed.join(', ')} or false`);
  return value;
}
