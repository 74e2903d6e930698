import { ApiError } from 'bulwark/errors';
import type { CorsConfig } from '../config/route-schema.js';
import type { HttpMethod } from '../config/primitives.js';
import type { GatewayMetrics } from '../observability/gateway-metrics.js';
import { HANDLED, type Stage } from './compiled-route.js';
import type { Exchange } from './exchange.js';

export interface CorsStageOptions {
  readonly routeName: string;
  readonly config: CorsConfig;
  /** The route's methods (used when the CORS block names none). */
  readonly routeMethods: readonly HttpMethod[];
  /** Outside production, `developmentPorts` add http://localhost:<port> and http://127.0.0.1:<port>. */
  readonly production: boolean;
  readonly metrics: GatewayMetrics;
}

const OPTIONS_NOT_ALLOWED = 'OPTIONS is answered for CORS preflights only on this route.';

/**
 * CORS with an exact allow-list, decided from sets built once:
 * - no `Origin`, or the gateway's own origin: not a cross-origin request, nothing to do;
 * - a preflight (`OPTIONS` + `Access-Control-Request-Method`) is answered here — 204 with the
 *   allowed methods and headers, or 403 `CORS_ORIGIN_REJECTED` / `CORS_METHOD_REJECTED`;
 * - an actual request from an origin not on the list is refused with 403 before it can reach the
 *   upstream (a browser would hide the answer, but the side effects would already have happened).
 * `Vary: Origin` is set whenever the answer depends on the origin. No wildcard is ever sent.
 */
export function createCorsStage(options: CorsStageOptions): Stage {
  const { config, metrics, routeName } = options;
  const origins = new Set(config.origins);
  if (!options.production) {
    for (const port of config.developmentPorts) {
      origins.add(`http://localhost:${port}`);
      origins.add(`http://127.0.0.1:${port}`);
    }
  }
  const methods = config.methods ?? options.routeMethods;
  const allowedMethods = new Set<string>(methods);
  const allowMethodsValue = methods.join(', ');
  const allowHeaders = new Set(config.allowHeaders);
  const allowHeadersValue = config.allowHeaders.join(', ');
  const exposeHeadersValue = config.exposeHeaders.join(', ');
  const maxAgeValue = String(config.maxAgeSeconds);
  const rejectedOrigin = metrics.corsRejected.labels(routeName, 'origin');
  const rejectedMethod = metrics.corsRejected.labels(routeName, 'method');
  const rejectedHeaders = metrics.corsRejected.labels(routeName, 'headers');

  // OPTIONS is routed to this route for preflights; other OPTIONS requests go upstream only when
  // the route lists OPTIONS itself.
  const forwardsOptions = options.routeMethods.includes('OPTIONS');

  return function cors(exchange: Exchange) {
    const headers = exchange.request.headers;
    const origin = headers.origin;
    const isOptions = exchange.request.method === 'OPTIONS';
    const preflightMethod = isOptions && origin !== undefined ? headers['access-control-request-method'] : undefined;
    if (isOptions && preflightMethod === undefined && !forwardsOptions) {
      throw new ApiError('METHOD_NOT_ALLOWED', { detail: OPTIONS_NOT_ALLOWED, headers: { allow: options.routeMethods.join(', ') } });
    }
    if (origin === undefined || isSameOrigin(origin, exchange)) return undefined;
    const response = exchange.response;
    response.setHeader('vary', 'Origin');

    if (!origins.has(origin)) {
      rejectedOrigin.inc();
      throw new ApiError('CORS_ORIGIN_REJECTED', { detail: 'This origin may not call this route.' });
    }
    response.setHeader('access-control-allow-origin', origin);
    if (config.credentials) response.setHeader('access-control-allow-credentials', 'true');

    if (preflightMethod === undefined) {
      if (exposeHeadersValue !== '') response.setHeader('access-control-expose-headers', exposeHeadersValue);
      return undefined;
    }
    if (!allowedMethods.has(preflightMethod.toUpperCase())) {
      rejectedMethod.inc();
      throw new ApiError('CORS_METHOD_REJECTED', { detail: `${preflightMethod} is not allowed cross-origin on this route.` });
    }
    const requested = headers['access-control-request-headers'];
    if (requested !== undefined && !requested.split(',').every((name) => name.trim() === '' || allowHeaders.has(name.trim().toLowerCase()))) {
      rejectedHeaders.inc();
      throw new ApiError('CORS_METHOD_REJECTED', { detail: 'A requested header is not allowed cross-origin on this route.' });
    }
    response.setHeader('vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
    response.setHeader('access-control-allow-methods', allowMethodsValue);
    response.setHeader('access-control-allow-headers', allowHeadersValue);
    response.setHeader('access-control-max-age', maxAgeValue);
    response.statusCode = 204;
    exchange.status = 204;
    response.setHeader('content-length', 0);
    response.end();
    return HANDLED;
  };
}

/** A browser sends `Origin` on same-origin POSTs too; those are not cross-origin requests. */
function isSameOrigin(origin: string, exchange: Exchange): boolean {
  const host = exchange.request.headers.host;
  if (host === undefined) return false;
  return origin === `${exchange.secure ? 'https' : 'http'}://${host}`;
}
