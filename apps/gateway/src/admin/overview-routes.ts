import type { BuiltinRegistrar } from '../server/build-server.js';
import { authenticateAdmin, type AdminServices } from './admin-context.js';

/**
 * `GET /admin/overview`: the live figures of the console's overview page — the last samples of
 * request rate, error rate, p99 latency, rejections and open breakers, and the totals now (see
 * overview-sampler.ts).
 */
export function overviewRoutes(prefix: string, services: AdminServices): BuiltinRegistrar {
  return (server, builtin) => {
    server.get(
      `${prefix}/overview`,
      builtin('admin', async (context) => {
        await authenticateAdmin(services, context, 'overview.get');
        context.reply.header('cache-control', 'no-store');
        return services.overview.overview();
      }),
    );
  };
}
