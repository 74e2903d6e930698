import { ApiError } from 'bulwark/errors';
import { createCorsPolicy, type CorsDecision, type CorsRefusal } from 'bulwark/http';
import type { Registry } from 'prom-client';
import type { HttpMethod } from '../config/primitives.js';
import type { CorsConfig } from '../config/route-schema.js';
import { HANDLED, type Stage } from './compiled-route.js';
import type { Exchange } from './exchange.js';

export interface CorsStageOptions {
  readonly config: CorsConfig;
  /** The route's methods (used when the CORS block names none). */
  readonly routeMethods: readonly HttpMethod[];
  /** Outside production, `developmentPorts` add http://localhost:<port> (and 127.0.0.1, [::1]). */
  readonly production: boolean;
  /** Where bulwark/http counts `cors_rejected_total{reason}`. */
  readonly registry: Registry;
}

const METHOD_REFUSALS: ReadonlySet<CorsRefusal> = new Set(['method-not-allowed', 'header-not-allowed', 'missing-request-method']);

/**
 * CORS over bulwark/http's `createCorsPolicy` (an exact allow-list, every header value computed at
 * start-up, `null` and malformed origins refused, `Vary: Origin` always):
 * - no `Origin`, or the gateway's own origin: not a cross-origin request, nothing to do;
 * - a preflight (`OPTIONS` + `Access-Control-Request-Method`) is answered here — 204 with the
 *   granted headers, or 403 `CORS_ORIGIN_REJECTED` / `CORS_METHOD_REJECTED`;
 * - an actual request from an origin not on the list is refused with 403 before it can reach the
 *   upstream (a browser would hide the answer, but its side effects would already have happened).
 */
export function createCorsStage(options: CorsStageOptions): Stage {
  const { config } = options;
  const policy = createCorsPolicy({
    origins: config.origins,
    methods: config.methods ?? options.routeMethods,
    allowedHeaders: config.allowHeaders,
    exposedHeaders: config.exposeHeaders,
    credentials: config.credentials,
    maxAgeSeconds: config.maxAgeSeconds,
    ...(options.production || config.developmentPorts.length === 0 ? {} : { development: { localhostPorts: config.developmentPorts } }),
    registry: options.registry,
  });
  // OPTIONS reaches this route for preflights; other OPTIONS requests go upstream only when the
  // route lists OPTIONS itself.
  const forwardsOptions = options.routeMethods.includes('OPTIONS');
  const allowValue = options.routeMethods.join(', ');

  return function cors(exchange: Exchange) {
    const headers = exchange.request.headers;
    const origin = headers.origin;
    const isOptions = exchange.request.method === 'OPTIONS';
    const requestMethod = isOptions && origin !== undefined ? headers['access-control-request-method'] : undefined;
    if (isOptions && requestMethod === undefined && !forwardsOptions) {
      throw new ApiError('METHOD_NOT_ALLOWED', { detail: 'OPTIONS is answered for CORS preflights only on this route.', headers: { allow: allowValue } });
    }
    if (origin === undefined || isSameOrigin(origin, exchange)) {
      // The answer still depends on Origin: without Vary, a shared cache could store this one (no
      // grant) and serve it to the allowed origins, whose browsers would then refuse it.
      exchange.addHeader('vary', 'Origin');
      return undefined;
    }

    if (requestMethod !== undefined) {
      const decision = policy.preflight(origin, requestMethod, headers['access-control-request-headers']);
      apply(exchange, decision);
      if (!decision.allowed) throw refusal(decision.reason);
      exchange.applyHeaders();
      const response = exchange.response;
      response.statusCode = 204;
      exchange.status = 204;
      response.setHeader('content-length', 0);
      response.end();
      return HANDLED;
    }
    const decision = policy.actual(origin);
    apply(exchange, decision);
    if (!decision.allowed) throw refusal(decision.reason);
    return undefined;
  };
}

function apply(exchange: Exchange, decision: CorsDecision): void {
  for (const name in decision.headers) {
    const value = decision.headers[name];
    if (value !== undefined) exchange.addHeader(name.toLowerCase(), value);
  }
}

function refusal(reason: CorsRefusal): ApiError {
  if (METHOD_REFUSALS.has(reason)) return new ApiError('CORS_METHOD_REJECTED', { detail: 'This method or header is not allowed cross-origin on this route.' });
  return new ApiError('CORS_ORIGIN_REJECTED', { detail: 'This origin may not call this route.' });
}

/** A browser sends `Origin` on same-origin POSTs too; those are not cross-origin requests. */
function isSameOrigin(origin: string, exchange: Exchange): boolean {
  const host = exchange.request.headers.host;
  if (host === undefined) return false;
  return origin === `${exchange.secure ? 'https' : 'http'}://${host}`;
}
