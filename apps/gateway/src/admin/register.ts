import type { LoggerLike } from 'bulwark/observability';
import type { Registry } from 'prom-client';
import type { GatewayConfig } from '../config/resolve.js';
import { setUpConsole } from '../console/console-builtins.js';
import type { GatewayServices } from '../lifecycle/services.js';
import type { BreakerSet } from '../proxy/breakers.js';
import type { BuiltinRegistrar } from '../server/build-server.js';
import type { AdminServices } from './admin-context.js';
import { createBreakerTransitions } from './breaker-transitions.js';
import { keysRoutes } from './keys-routes.js';
import { opsRoutes } from './ops-routes.js';
import { createOverviewSampler } from './overview-sampler.js';
import { overviewRoutes } from './overview-routes.js';

export interface AdminBuiltinContext {
  readonly services: GatewayServices;
  readonly config: GatewayConfig;
  readonly logger: LoggerLike;
  readonly breakers: BreakerSet;
  readonly registry: Registry;
}

/**
 * The admin API under `admin.prefix` (default `/admin`), for keys with the admin scope or a console
 * session, and the console under `console.path` (default `/console`). The overview sampler and the
 * breaker transition log start with the server and stop when it closes.
 */
export function adminBuiltins(context: AdminBuiltinContext): readonly BuiltinRegistrar[] {
  const { services, config, logger, breakers, registry } = context;
  if (!config.admin.enabled) return [];
  const transitions = createBreakerTransitions(breakers);
  const overview = createOverviewSampler({ registry, breakers, logger, onSample: () => transitions.sync() });
  const consoleSetup = setUpConsole(context);
  const csrf = services.sessionHttp.csrf;
  const adminServices: AdminServices = {
    keyStore: services.keyStore,
    apiKeys: services.apiKeys,
    revocation: services.revocation,
    audit: services.audit,
    sql: services.database,
    breakers,
    limiters: services.limiters,
    sessions: services.sessionHttp.store,
    registry,
    transitions,
    overview,
    logger,
    scope: config.admin.scope,
    sameOrigin: (headers) => csrf?.checkOrigin(headers) === undefined,
    console: consoleSetup?.sessions,
  };
  const lifecycle: BuiltinRegistrar = (server) => {
    transitions.sync();
    overview.start();
    server.addHook('onClose', async () => {
      overview.stop();
      transitions.close();
    });
  };
  return [
    lifecycle,
    keysRoutes(config.admin.prefix, adminServices),
    opsRoutes(config.admin.prefix, adminServices),
    overviewRoutes(config.admin.prefix, adminServices),
    ...(consoleSetup === undefined ? [] : [consoleSetup.routes]),
  ];
}
