import type { GatewayConfig } from '../config/resolve.js';
import type { UpstreamConfig } from '../config/schema.js';
import { compileRoute, type RouteDependencies } from '../pipeline/build-route.js';
import type { CompiledRoute } from '../pipeline/compiled-route.js';
import { createEdge, type Edge } from '../pipeline/edge.js';
import { createUpstreamPool, type UpstreamPool } from '../proxy/upstream-pool.js';
import type { UpstreamGuard } from '../proxy/upstream-guard.js';
import { Router } from '../routing/router.js';
import { createOpsAccess } from '../ops/ops-access.js';
import type { ApiError } from 'bulwark/errors';

/**
 * Everything built from one version of the config: the routes with their pipelines, the router,
 * the upstream pools, the edge and the ops access policy. A reload builds a new table and swaps it
 * in one assignment; the old one finishes its in-flight requests and closes its pools.
 */
export interface RouteTable {
  readonly config: GatewayConfig;
  /** Increases with every reload, for logs and /health/summary. */
  readonly generation: number;
  readonly edge: Edge;
  readonly router: Router<CompiledRoute>;
  readonly routes: readonly CompiledRoute[];
  readonly upstreams: ReadonlyMap<string, UpstreamPool>;
  /** Access to /metrics and /health/summary: the problem to answer, or undefined. */
  readonly opsAccess: (clientIp: string, authorization: string | undefined) => ApiError | undefined;
  /** Closes the upstream pools once their in-flight requests are done. */
  close(): Promise<void>;
  /** Closes the upstream pools now, aborting what is still in flight (a shutdown past its deadline). */
  destroy(): Promise<void>;
}

export interface RouteTableDependencies extends Omit<RouteDependencies, 'upstreams' | 'exposeErrors'> {
  /** The breaker of an upstream: kept across reloads by name (see breakers.ts). */
  guardFor(name: string, config: UpstreamConfig): UpstreamGuard;
}

export function buildRouteTable(config: GatewayConfig, generation: number, deps: RouteTableDependencies): RouteTable {
  const upstreams = new Map<string, UpstreamPool>();
  for (const [name, upstream] of Object.entries(config.upstreams)) {
    upstreams.set(name, createUpstreamPool(name, upstream, deps.guardFor(name, upstream)));
  }
  try {
    const routeDeps: RouteDependencies = { ...deps, upstreams, exposeErrors: config.server.exposeErrors };
    const router = new Router<CompiledRoute>();
    const routes = config.routes.map((route) => {
      const compiled = compileRoute(route, routeDeps);
      router.add(route.match, compiled, route.cors === false ? [] : ['OPTIONS']);
      return compiled;
    });
    const edge = createEdge({ trustedProxies: config.server.trustedProxies, httpsRedirect: config.server.httpsRedirect, securityHeaders: deps.securityHeaders });
    const opsAccess = createOpsAccess({ token: config.metrics.token, allowedIps: config.metrics.allowedIps });
    return {
      config,
      generation,
      edge,
      router,
      routes,
      upstreams,
      opsAccess,
      async close() {
        await Promise.all([...upstreams.values()].map((upstream) => upstream.pool.close()));
      },
      async destroy() {
        await Promise.all([...upstreams.values()].map((upstream) => upstream.pool.destroy()));
      },
    };
  } catch (error) {
    for (const upstream of upstreams.values()) void upstream.pool.destroy();
    throw error;
  }
}
