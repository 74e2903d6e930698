import type { SecurityHeadersConfig } from '../config/schema.js';
import type { HeaderList } from '../pipeline/edge.js';

/**
 * The security headers of every response, computed once at start-up from `securityHeaders` (and
 * on a reload), never per request. The CSP gets the report endpoint (`report-uri` and the
 * Reporting API's `report-to`).
 */
export function buildSecurityHeaderList(config: SecurityHeadersConfig): HeaderList {
  const headers: [string, string][] = [];
  if (config.contentSecurityPolicy !== false) {
    const policy = config.contentSecurityPolicy.trim().replace(/;\s*$/, '');
    headers.push(['content-security-policy', `${policy}; report-uri ${config.cspReportPath}; report-to csp`]);
    headers.push(['reporting-endpoints', `csp="${config.cspReportPath}"`]);
  }
  if (config.hsts !== false) {
    let value = `max-age=${config.hsts.maxAgeSeconds}`;
    if (config.hsts.includeSubDomains) value += '; includeSubDomains';
    if (config.hsts.preload) value += '; preload';
    headers.push(['strict-transport-security', value]);
  }
  if (config.frameOptions !== false) headers.push(['x-frame-options', config.frameOptions]);
  headers.push(['x-content-type-options', 'nosniff']);
  headers.push(['referrer-policy', config.referrerPolicy]);
  if (config.permissionsPolicy !== false) headers.push(['permissions-policy', config.permissionsPolicy]);
  headers.push(['cross-origin-opener-policy', 'same-origin']);
  headers.push(['cross-origin-resource-policy', 'same-origin']);
  return Object.freeze(headers.map((header) => Object.freeze(header)));
}

/** Upstream response headers the gateway replaces with its own values. */
export function ownedResponseHeaders(securityHeaders: HeaderList, cors: boolean): ReadonlySet<string> {
  const owned = new Set<string>(['x-request-id', 'ratelimit', 'ratelimit-policy', 'x-powered-by']);
  for (const [name] of securityHeaders) owned.add(name);
  if (cors) {
    for (const name of ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-expose-headers', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age']) {
      owned.add(name);
    }
  }
  return owned;
}
