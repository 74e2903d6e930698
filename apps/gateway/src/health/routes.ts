import type { BuiltinRegistrar } from '../server/build-server.js';
import type { Readiness } from './health-check.js';

export interface HealthRoutesOptions {
  readonly readiness: Readiness;
  /** The protected summary: memory stores, breakers, reload generation. */
  summary(): Promise<Record<string, unknown>> | Record<string, unknown>;
}

/**
 * `/health` (public: status and check names only), `/health/live` (the process answers),
 * `/health/ready` (503 while a required dependency is down or the instance drains) and
 * `/health/summary` (details; protected like /metrics).
 */
export function healthRoutes(options: HealthRoutesOptions): BuiltinRegistrar {
  const { readiness } = options;
  return (server, builtin) => {
    server.get(
      '/health',
      builtin('health', async ({ reply }) => {
        const report = await readiness.report();
        reply.header('cache-control', 'no-store');
        return { status: report.ready ? 'ok' : 'degraded', checks: readiness.names() };
      }),
    );
    server.get(
      '/health/live',
      builtin('health', ({ reply }) => {
        reply.header('cache-control', 'no-store');
        return { status: 'ok' };
      }),
    );
    server.get(
      '/health/ready',
      builtin('health', async ({ reply }) => {
        const report = await readiness.report();
        reply.header('cache-control', 'no-store');
        reply.code(report.ready ? 200 : 503);
        return { status: report.ready ? 'ready' : 'not_ready', checks: report.checks };
      }),
    );
    server.get(
      '/health/summary',
      builtin('health', async ({ request, reply, peer, table }) => {
        const denied = table.opsAccess(peer.clientIp, request.headers.authorization);
        if (denied !== undefined) throw denied;
        const report = await readiness.report();
        reply.header('cache-control', 'no-store');
        return { status: report.ready ? 'ready' : 'not_ready', checks: report.checks, ...(await options.summary()) };
      }),
    );
  };
}
