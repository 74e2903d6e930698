import type { LoggerLike } from 'bulwark/observability';
import type { GatewayConfig } from '../config/resolve.js';
import type { GatewayServices } from '../lifecycle/services.js';
import type { BreakerSet } from '../proxy/breakers.js';
import type { BuiltinRegistrar } from '../server/build-server.js';
import { keysRoutes } from './keys-routes.js';
import { opsRoutes } from './ops-routes.js';

export interface AdminBuiltinContext {
  readonly services: GatewayServices;
  readonly config: GatewayConfig;
  readonly logger: LoggerLike;
  readonly breakers: BreakerSet;
}

/** The admin API under `admin.prefix` (default `/admin`), for keys with the admin scope. */
export function adminBuiltins(context: AdminBuiltinContext): readonly BuiltinRegistrar[] {
  const { services, config, logger, breakers } = context;
  if (!config.admin.enabled) return [];
  const adminServices = {
    keyStore: services.keyStore,
    apiKeys: services.apiKeys,
    revocation: services.revocation,
    audit: services.audit,
    sql: services.database,
    breakers,
    limiters: services.limiters,
    sessions: services.sessionHttp.store,
    logger,
    scope: config.admin.scope,
  };
  return [keysRoutes(config.admin.prefix, adminServices), opsRoutes(config.admin.prefix, adminServices)];
}
