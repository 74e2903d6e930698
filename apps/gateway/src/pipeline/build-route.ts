import type { Authenticator } from '../auth/authenticator.js';
import { HTTP_METHODS, type HttpMethod } from '../config/primitives.js';
import type { ResolvedRateLimit, ResolvedRoute } from '../config/resolve.js';
import type { GatewayMetrics } from '../observability/gateway-metrics.js';
import { createForwarder } from '../proxy/forward.js';
import type { UpstreamPool } from '../proxy/upstream-pool.js';
import { compileRequestValidator } from '../validation/request-validator.js';
import { createAuthenticationStage, createAuthorizationStage } from './authenticate.js';
import { createBodyStage } from './body.js';
import { ownedResponseHeaders } from '../server/security-headers.js';
import type { CompiledRoute, Stage } from './compiled-route.js';
import type { HeaderList } from './edge.js';
import { createCorsStage } from './cors.js';
import { createKeyLimitStage, createRateLimitStage, type RouteLimiter } from './rate-limit.js';
import type { KeyLimits } from '../limits/key-limits.js';
import { createSafeParsers } from './safe-parsers.js';
import { createValidationStage } from './validate.js';

/** What compiling a route needs from the rest of the gateway, built once per config. */
export interface RouteDependencies {
  readonly production: boolean;
  readonly exposeErrors: boolean;
  readonly metrics: GatewayMetrics;
  readonly upstreams: ReadonlyMap<string, UpstreamPool>;
  /** The security headers of every response (their upstream values are replaced). */
  readonly securityHeaders: HeaderList;
  createAuthenticator(route: ResolvedRoute): Authenticator;
  createLimiter(route: ResolvedRoute, limit: ResolvedRateLimit): RouteLimiter;
  /** The limits API keys carry themselves; checked on routes with API-key auth. */
  readonly keyLimits?: KeyLimits | undefined;
}

/**
 * Builds a route's pipeline once: only the stages it needs, in the order of DESIGN.md (CORS → body
 * limits and safe parsing → authentication → authorisation → rate limits → validation → proxy; the
 * edge stages before them are shared by every route). Throws a `TypeError` for a config that the
 * resolver should have refused (an unknown upstream, a schema that does not compile).
 */
export function compileRoute(route: ResolvedRoute, deps: RouteDependencies): CompiledRoute {
  const upstream = deps.upstreams.get(route.upstream);
  if (upstream === undefined) throw new TypeError(`route ${route.name}: unknown upstream ${route.upstream}`);

  const authenticator = route.public ? undefined : deps.createAuthenticator(route);
  const validation = route.validation === undefined ? undefined : compileRequestValidator(route.validation);
  if (validation !== undefined && !validation.ok) throw new TypeError(`route ${route.name}: ${validation.problems.join('; ')}`);
  const validator = validation?.validator;

  const stages: Stage[] = [];
  if (route.cors !== false) {
    stages.push(createCorsStage({ config: route.cors, routeMethods: routeMethods(route), production: deps.production, registry: deps.metrics.registry }));
  }
  stages.push(
    createBodyStage({
      limitBytes: route.bodyLimit,
      bufferAlways: authenticator?.needsRawBody === true || validator?.hasBody === true,
      safeJson: route.safeJson,
      requireJson: validator?.hasBody === true,
      parsers: createSafeParsers(route.bodyLimit),
    }),
  );
  if (authenticator !== undefined) {
    stages.push(createAuthenticationStage(authenticator, deps.metrics));
    const scopes = 'scopes' in route.auth ? route.auth.scopes : [];
    if (scopes.length > 0) stages.push(createAuthorizationStage(authenticator.scheme, scopes, deps.metrics));
  }
  if (route.rateLimits.length > 0) stages.push(createRateLimitStage(route.rateLimits.map((limit) => deps.createLimiter(route, limit))));
  if (route.auth.type === 'apiKey' && deps.keyLimits !== undefined) stages.push(createKeyLimitStage(deps.keyLimits));
  if (validator !== undefined) stages.push(createValidationStage(validator));

  const consumedHeaders = new Set(authenticator?.consumedHeaders ?? []);
  const terminal = createForwarder({
    route,
    upstream,
    ownedResponseHeaders: ownedResponseHeaders(deps.securityHeaders, route.cors !== false),
    consumedHeaders,
    exposeErrors: deps.exposeErrors,
  });
  return { name: route.name, config: route, stages, terminal, consumedHeaders };
}

/** The methods a route answers (GET implies HEAD); every method when the match names none. */
export function routeMethods(route: ResolvedRoute): readonly HttpMethod[] {
  const methods = route.match.methods;
  if (methods === undefined) return HTTP_METHODS;
  return methods.includes('GET') && !methods.includes('HEAD') ? [...methods, 'HEAD'] : methods;
}
