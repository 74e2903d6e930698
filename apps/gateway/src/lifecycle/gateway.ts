import type { FastifyInstance } from 'fastify';
import type { BreakerEnvDefaults } from 'bulwark/resilience';
import type { LoggerLike } from 'bulwark/observability';
import type { Registry } from 'prom-client';
import type { Authenticator } from '../auth/authenticator.js';
import { consoleEnabled, type GatewayConfig, type ResolvedRoute } from '../config/resolve.js';
import type { TlsMaterial } from '../config/tls-files.js';
import { createReadiness, type HealthCheck, type Readiness } from '../health/health-check.js';
import { healthRoutes } from '../health/routes.js';
import { upstreamHealthCheck } from '../health/upstream-check.js';
import { createGatewayMetrics, type GatewayMetrics } from '../observability/gateway-metrics.js';
import { createRequestRecorder } from '../observability/request-recorder.js';
import { cspReportRoute } from '../ops/csp-report-route.js';
import { metricsRoute } from '../ops/metrics-route.js';
import type { KeyLimits } from '../limits/key-limits.js';
import type { LimiterSet } from '../limits/limiter-set.js';
import { createBreakerSet, type BreakerSet } from '../proxy/breakers.js';
import { createWebSocketProxy } from '../proxy/websocket.js';
import { buildServer, type BuiltinRegistrar } from '../server/build-server.js';
import { buildRouteTable, type RouteTable } from '../server/route-table.js';
import { GatewayRuntime } from '../server/runtime.js';
import { buildSecurityHeaderList } from '../server/security-headers.js';

/** Builds the authenticator of a route (API keys, signatures, webhooks, sessions: see services). */
export type AuthenticatorFactory = (route: ResolvedRoute) => Authenticator;

export interface GatewayOptions {
  readonly config: GatewayConfig;
  readonly production: boolean;
  readonly logger: LoggerLike;
  readonly registry: Registry;
  readonly tls?: TlsMaterial | undefined;
  /** Defaults of the upstream breakers (BULWARK_BREAKER_*); used when `breakers` is not given. */
  readonly breakerDefaults: BreakerEnvDefaults;
  /** The upstream breakers, when the caller shares them (the admin API drives them). */
  readonly breakers?: BreakerSet | undefined;
  readonly createAuthenticator: AuthenticatorFactory;
  /** The rate limiters, on the configured store. */
  readonly limiters: LimiterSet;
  /** The limits API keys carry themselves. */
  readonly keyLimits?: KeyLimits | undefined;
  /** Readiness checks of the process-level dependencies (Redis, the database). */
  readonly checks?: readonly HealthCheck[];
  /** Extra endpoint groups (the admin API). */
  readonly builtins?: readonly BuiltinRegistrar[];
  /** Extra members of /health/summary (memory stores…). */
  readonly summary?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** Per-IP allowance of CSP reports. */
  readonly allowCspReport: (clientIp: string) => boolean | Promise<boolean>;
}

export type ReloadResult = { readonly ok: true; readonly generation: number; readonly restartNeeded: readonly string[] } | { readonly ok: false; readonly error: string };

export interface Gateway {
  readonly server: FastifyInstance;
  readonly runtime: GatewayRuntime;
  readonly breakers: BreakerSet;
  readonly metrics: GatewayMetrics;
  readonly readiness: Readiness;
  /** Listens on `server.host:server.port`; resolves with the bound address. */
  listen(): Promise<{ readonly host: string; readonly port: number; readonly url: string }>;
  /**
   * Swaps in a new config. Settings bound at start-up (listener, TLS, ops paths, stores) keep their
   * old values and are named in `restartNeeded`. A config that fails to build leaves the old one.
   */
  reload(config: GatewayConfig): ReloadResult;
  /**
   * Graceful shutdown: readiness fails, no new connection is accepted, in-flight requests finish
   * (at most `server.shutdownTimeoutMs`, then connections are cut), upstream pools close.
   */
  close(): Promise<void>;
}

/**
 * Assembles the gateway from a validated config and the process-level services. Nothing listens
 * until {@link Gateway.listen}.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { logger, registry, production } = options;
  const metrics = createGatewayMetrics(registry);
  const breakers = options.breakers ?? createBreakerSet({ registry, logger, defaults: options.breakerDefaults });
  let generation = 0;

  /** Builds a table for `config`; `commit` makes its limiters and breakers the current ones. */
  const prepare = (config: GatewayConfig): { readonly table: RouteTable; commit(): void } => {
    const limiters = options.limiters.begin();
    let table: RouteTable;
    try {
      table = buildRouteTable(config, generation + 1, {
        production,
        metrics,
        securityHeaders: buildSecurityHeaderList(config.securityHeaders),
        guardFor: (name, upstream) => breakers.forUpstream(name, upstream.breaker),
        createAuthenticator: options.createAuthenticator,
        createLimiter: (_route, limit) => limiters.forLimit(limit),
        keyLimits: options.keyLimits,
      });
    } catch (error) {
      limiters.abort();
      throw error;
    }
    return {
      table,
      commit() {
        generation = table.generation;
        limiters.commit();
        breakers.retain(new Set(Object.keys(config.upstreams)));
      },
    };
  };

  const first = prepare(options.config);
  first.commit();
  const runtime = new GatewayRuntime(first.table);
  const startup = options.config;
  const processChecks = options.checks ?? [];
  const readiness = createReadiness({
    checks: () => [...processChecks, ...[...runtime.table.upstreams.values()].map((upstream) => upstreamHealthCheck(upstream, startup.health.probeTimeoutMs))],
    timeoutMs: startup.health.probeTimeoutMs,
    cacheMs: startup.health.cacheMs,
  });

  const builtins: BuiltinRegistrar[] = [];
  if (startup.health.enabled) {
    builtins.push(
      healthRoutes({
        readiness,
        summary: async () => ({
          generation: runtime.table.generation,
          inFlight: runtime.inFlight,
          websocketConnections: websockets.openConnections,
          uptimeSeconds: Math.round(process.uptime()),
          breakers: Object.fromEntries([...breakers.entries()].map(([name, breaker]) => [name, breaker.snapshot()])),
          ...(options.summary === undefined ? {} : await options.summary()),
        }),
      }),
    );
  }
  if (startup.metrics.enabled) builtins.push(metricsRoute(startup.metrics.path, registry));
  builtins.push(cspReportRoute({ path: startup.securityHeaders.cspReportPath, logger, allow: options.allowCspReport }));
  builtins.push(...(options.builtins ?? []));

  const recorder = createRequestRecorder({ logger, metrics, accessLog: startup.logging.accessLog });
  const websockets = createWebSocketProxy({ runtime, recorder });
  const server = buildServer({
    runtime,
    recorder,
    websockets,
    logger,
    tls: options.tls,
    keepAliveTimeoutMs: startup.server.keepAliveTimeoutMs,
    requestTimeoutMs: startup.server.requestTimeoutMs,
    builtins,
    isBuiltinPath: builtinPathMatcher(startup),
  });

  let closing: Promise<void> | undefined;

  return {
    server,
    runtime,
    breakers,
    metrics,
    readiness,
    async listen() {
      await server.listen({ host: startup.server.host, port: startup.server.port });
      const address = server.server.address();
      if (address === null || typeof address === 'string') throw new Error('the server is not listening on a TCP port');
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return { host: address.address, port: address.port, url: `${options.tls === undefined ? 'http' : 'https'}://${host}:${address.port}` };
    },
    reload(config) {
      let next: ReturnType<typeof prepare>;
      try {
        next = prepare(config);
      } catch (error) {
        return { ok: false, error: (error as Error).message };
      }
      const previous = runtime.table;
      const table = next.table;
      runtime.table = table;
      next.commit();
      // The old pools finish their in-flight requests, then close.
      void previous.close().catch((error: unknown) => logger.warn({ err: error }, 'closing the previous upstream pools failed'));
      return { ok: true, generation: table.generation, restartNeeded: restartNeeded(startup, config) };
    },
    close() {
      closing ??= (async () => {
        runtime.draining = true;
        readiness.drain();
        const closed = server.close();
        websockets.closeAll();
        const deadline = startup.server.shutdownTimeoutMs;
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<'expired'>((resolve) => {
          timer = setTimeout(() => resolve('expired'), deadline);
        });
        const outcome = await Promise.race([runtime.idle().then(() => 'drained' as const), expired]);
        if (outcome === 'expired') {
          logger.warn({ inFlight: runtime.inFlight, shutdownTimeoutMs: deadline }, 'shutdown deadline reached: closing the remaining connections');
          server.server.closeAllConnections();
        } else {
          // Keep-alive connections whose last request finished during the drain are idle now.
          server.server.closeIdleConnections();
        }
        clearTimeout(timer);
        await closed;
        // Past the deadline nothing waits for an upstream: a call whose client was cut is aborted
        // with its connection (a pool's close() would wait for it, up to the route timeout).
        await (outcome === 'expired' ? runtime.table.destroy() : runtime.table.close());
        for (const [, breaker] of breakers.entries()) breaker.dispose();
      })();
      return closing;
    },
  };
}

/** Settings read once at start-up: a reload that changes them needs a restart to take effect. */
function restartNeeded(before: GatewayConfig, after: GatewayConfig): string[] {
  const sections: [string, unknown, unknown][] = [
    ['server.host', before.server.host, after.server.host],
    ['server.port', before.server.port, after.server.port],
    ['server.tls', before.server.tls, after.server.tls],
    ['server.keepAliveTimeoutMs', before.server.keepAliveTimeoutMs, after.server.keepAliveTimeoutMs],
    ['server.requestTimeoutMs', before.server.requestTimeoutMs, after.server.requestTimeoutMs],
    ['metrics.enabled', before.metrics.enabled, after.metrics.enabled],
    ['metrics.path', before.metrics.path, after.metrics.path],
    ['health', before.health, after.health],
    ['admin', before.admin, after.admin],
    ['console', before.console, after.console],
    ['logging', before.logging, after.logging],
    ['redis', before.redis, after.redis],
    // The session store, its cookie and the CSRF origin check (trustedOrigins, also used by the
    // admin API and the console) are process-level services, built once.
    ['sessions', before.sessions, after.sessions],
    ['database', before.database, after.database],
    ['securityHeaders.cspReportPath', before.securityHeaders.cspReportPath, after.securityHeaders.cspReportPath],
  ];
  return sections.filter(([, a, b]) => JSON.stringify(a) !== JSON.stringify(b)).map(([name]) => name);
}

/** The paths of the gateway's own endpoints, fixed at start-up (a reload cannot move them). */
function builtinPathMatcher(config: GatewayConfig): (path: string) => boolean {
  const exact = new Set<string>([config.securityHeaders.cspReportPath]);
  if (config.health.enabled) for (const path of ['/health', '/health/live', '/health/ready', '/health/summary']) exact.add(path);
  if (config.metrics.enabled) exact.add(config.metrics.path);
  // The admin API and the console: each path and everything below it (built once: this runs per request).
  const trees = [...(config.admin.enabled ? [config.admin.prefix.replace(/\/+$/, '')] : []), ...(consoleEnabled(config) ? [config.console.path] : [])].map((tree) => [tree, `${tree}/`] as const);
  return (path) => {
    if (exact.has(path)) return true;
    for (const [tree, below] of trees) if (path === tree || path.startsWith(below)) return true;
    return false;
  };
}
