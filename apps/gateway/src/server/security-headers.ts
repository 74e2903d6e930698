import { buildSecurityHeaders, type SecurityHeadersOptions } from 'bulwark/http';
import type { SecurityHeadersConfig } from '../config/schema.js';
import type { HeaderList } from '../pipeline/edge.js';

/**
 * The security headers of every response, computed once at start-up (and on a reload) by
 * bulwark/http's `buildSecurityHeaders`, never per request. The CSP reports to `cspReportPath`.
 *
 * @throws TypeError naming the option when a value could inject into a header (a config problem).
 */
export function buildSecurityHeaderList(config: SecurityHeadersConfig): HeaderList {
  const csp = config.contentSecurityPolicy;
  const options: SecurityHeadersOptions = {
    contentSecurityPolicy:
      csp === false
        ? false
        : { reportUri: config.cspReportPath, ...(csp?.directives === undefined ? {} : { directives: csp.directives }), ...(csp?.reportOnly === undefined ? {} : { reportOnly: csp.reportOnly }) },
    ...(config.hsts === undefined ? {} : { strictTransportSecurity: config.hsts === false ? false : definedOnly(config.hsts) }),
    ...(config.frameOptions === undefined ? {} : { frameOptions: config.frameOptions }),
    ...(config.referrerPolicy === undefined ? {} : { referrerPolicy: config.referrerPolicy }),
    ...(config.permissionsPolicy === undefined ? {} : { permissionsPolicy: config.permissionsPolicy }),
    ...(config.crossOriginOpenerPolicy === undefined ? {} : { crossOriginOpenerPolicy: config.crossOriginOpenerPolicy }),
    ...(config.crossOriginResourcePolicy === undefined ? {} : { crossOriginResourcePolicy: config.crossOriginResourcePolicy }),
  };
  const headers = buildSecurityHeaders(options);
  return Object.freeze(Object.entries(headers).map(([name, value]) => Object.freeze([name.toLowerCase(), value] as const)));
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

function definedOnly<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
