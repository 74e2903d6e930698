import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoggerLike } from 'bulwark/observability';
import type { Registry } from 'prom-client';
import { consoleEnabled, type GatewayConfig } from '../config/resolve.js';
import type { GatewayServices } from '../lifecycle/services.js';
import type { BuiltinRegistrar } from '../server/build-server.js';
import { loadConsoleAssets } from './console-assets.js';
import { buildConsoleHeaders } from './console-headers.js';
import { consoleRoutes } from './console-routes.js';
import { createConsoleSessions, type ConsoleSessions } from './console-sessions.js';

/** `apps/console/dist`, from `src/console/` and from `dist/console/` alike. */
export const DEFAULT_CONSOLE_ASSETS_DIR = fileURLToPath(new URL('../../../console/dist', import.meta.url));

export interface ConsoleBuiltinContext {
  readonly services: GatewayServices;
  readonly config: GatewayConfig;
  readonly logger: LoggerLike;
  readonly registry: Registry;
}

export interface ConsoleSetup {
  /** The console's sessions: the admin API accepts their cookie. */
  readonly sessions: ConsoleSessions;
  /** The page, its files and the session API; stops the sessions' listeners when the server closes. */
  readonly routes: BuiltinRegistrar;
}

/**
 * The admin console, when `console.enabled` (default: with the admin API): the built files read
 * once (a warning when there are none: the page answers 503 CONSOLE_NOT_BUILT, the API works), the
 * sessions, and the routes under `console.path`.
 */
export function setUpConsole(context: ConsoleBuiltinContext): ConsoleSetup | undefined {
  const { services, config, logger, registry } = context;
  if (!consoleEnabled(config)) return undefined;
  const assetsDir = resolve(config.console.assetsDir ?? DEFAULT_CONSOLE_ASSETS_DIR);
  const assets = loadConsoleAssets(assetsDir, logger);
  if (assets.index === undefined) logger.warn({ assetsDir }, `console not built: run npm run build (${config.console.path}/ answers 503 until then; the console API works)`);
  const sessions = createConsoleSessions({
    config: config.console,
    keyring: services.keyring,
    redis: services.redis,
    redisKeyPrefix: config.redis?.keyPrefix ?? 'bulwark:',
    keyStore: services.keyStore,
    apiKeys: services.apiKeys,
    revocation: services.revocation,
    lastUsed: services.lastUsed,
    audit: services.audit,
    scope: config.admin.scope,
    trustedOrigins: config.sessions.trustedOrigins,
    registry,
    logger,
  });
  const routes = consoleRoutes({ path: config.console.path, assets, headers: buildConsoleHeaders(config.securityHeaders.cspReportPath), sessions, adminPrefix: config.admin.prefix });
  return {
    sessions,
    routes(server, builtin) {
      routes(server, builtin);
      server.addHook('onClose', async () => sessions.close());
    },
  };
}
