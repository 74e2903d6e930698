import type { Registry } from 'prom-client';
import type { BuiltinRegistrar } from '../server/build-server.js';

/** `GET <metrics.path>`: the Prometheus text of the gateway's registry, behind the ops access policy. */
export function metricsRoute(path: string, registry: Registry): BuiltinRegistrar {
  return (server, builtin) => {
    server.get(
      path,
      builtin('metrics', async ({ request, reply, peer, table }) => {
        const denied = table.opsAccess(peer.clientIp, request.headers.authorization);
        if (denied !== undefined) throw denied;
        const text = await registry.metrics();
        reply.header('content-type', registry.contentType).header('cache-control', 'no-store');
        return text;
      }),
    );
  };
}
