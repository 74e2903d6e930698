import { dirname, resolve } from 'node:path';
import { pino } from 'pino';
import { bulwarkEnvSchema, formatEnvIssues, loadEnv, type EnvSource } from 'bulwark/config';
import { breakerDefaultsFromEnv } from 'bulwark/resilience';
import { createLogger, createMetricsRegistry, type LoggerLike } from 'bulwark/observability';
import type { Registry } from 'prom-client';
import { createAuthenticatorFactory } from '../auth/create-authenticator.js';
import { formatProblems, type ConfigProblem } from '../config/problems.js';
import type { GatewayConfig } from '../config/resolve.js';
import { loadTlsFiles, type TlsMaterial } from '../config/tls-files.js';
import { checkConfigFile, deepProblems } from '../config/validate-file.js';
import { createBreakerSet, type BreakerSet } from '../proxy/breakers.js';
import type { BuiltinRegistrar } from '../server/build-server.js';
import { createCspReportLimiter } from '../ops/csp-report-limit.js';
import { createGateway, type Gateway, type ReloadResult } from './gateway.js';
import { createServices, type DatabaseChoice, type GatewayServices } from './services.js';

/** A logger the gateway can also flush and close on shutdown. */
export type GatewayLogger = LoggerLike & { flush?: (callback?: (error?: Error) => void) => void };

export interface StartOptions {
  /** The environment (`process.env`): validated before anything else. */
  readonly env: EnvSource;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
  /** The config file (`--config`, else `BULWARK_CONFIG`). Either this or `config`. */
  readonly configPath?: string | undefined;
  /** An already validated config (the demo, tests). */
  readonly config?: GatewayConfig | undefined;
  /** @default a redacting JSON logger on stdout at the config's level */
  readonly logger?: GatewayLogger | undefined;
  /** @default a new registry with Node's default metrics */
  readonly registry?: Registry | undefined;
  /** @default the config's `database`, else embedded PGlite in BULWARK_DATA_DIR */
  readonly database?: DatabaseChoice | undefined;
  /** Endpoint groups added to the server (`adminBuiltins` for the admin API). */
  readonly builtins?: (context: { readonly services: GatewayServices; readonly config: GatewayConfig; readonly logger: LoggerLike; readonly breakers: BreakerSet; readonly registry: Registry }) => readonly BuiltinRegistrar[];
}

export interface RunningGateway {
  readonly gateway: Gateway;
  readonly services: GatewayServices;
  readonly config: GatewayConfig;
  readonly logger: GatewayLogger;
  readonly url: string;
  readonly port: number;
  /** Re-reads the config file and swaps it in; an invalid file keeps the running config. */
  reload(): Promise<ReloadResult | { readonly ok: false; readonly error: string; readonly problems: readonly ConfigProblem[] }>;
  /** Graceful shutdown (see Gateway.close), then batched writes, Redis, the database and the logs. */
  shutdown(): Promise<void>;
}

export type StartResult = { readonly ok: true; readonly running: RunningGateway } | { readonly ok: false; readonly message: string };

/**
 * Starts the gateway: the environment and the config are validated first — every problem listed,
 * nothing listening — then the services open (database, Redis), the server is built and listens.
 * Nothing is started when validation fails; the caller exits 1 with the message.
 */
export async function startGateway(options: StartOptions): Promise<StartResult> {
  const envResult = loadEnv(bulwarkEnvSchema, options.env);
  let configResult: { ok: true; config: GatewayConfig } | { ok: false; problems: readonly ConfigProblem[] } | undefined;
  const configPath = options.configPath ?? options.env['BULWARK_CONFIG'];
  if (options.config !== undefined) {
    const problems = deepProblems(options.config);
    configResult = problems.length === 0 ? { ok: true, config: options.config } : { ok: false, problems };
  } else if (configPath !== undefined) {
    configResult = await checkConfigFile(resolve(options.cwd, configPath), options.env);
  }

  const messages: string[] = [];
  if (!envResult.ok) messages.push(formatEnvIssues(envResult.issues).trimEnd());
  if (configResult === undefined) messages.push('No config file: pass --config <file> or set BULWARK_CONFIG (or use --demo).');
  else if (!configResult.ok) messages.push(`Invalid config${configPath === undefined ? '' : ` ${configPath}`}: ${configResult.problems.length} problem(s).\n${formatProblems(configResult.problems)}`);
  if (envResult.ok && configResult?.ok === true && envResult.env.NODE_ENV === 'production' && configResult.config.server.exposeErrors) {
    messages.push('server.exposeErrors is true with NODE_ENV=production: internal messages and stacks would reach clients. Remove it.');
  }
  if (!envResult.ok || configResult === undefined || !configResult.ok || messages.length > 0) return { ok: false, message: messages.join('\n\n') };

  const env = envResult.env;
  const config = configResult.config;
  const production = env.NODE_ENV === 'production';
  const logger: GatewayLogger =
    options.logger ??
    createLogger({ level: config.logging.level, redactKeys: config.logging.redact, base: { service: 'bulwark-gateway' }, destination: pino.destination({ fd: 1, sync: false }) });

  let tls: TlsMaterial | undefined;
  if (config.server.tls !== undefined) {
    const files = await loadTlsFiles(config.server.tls, configPath === undefined ? options.cwd : dirname(resolve(options.cwd, configPath)));
    if (!files.ok) return { ok: false, message: `TLS files:\n${formatProblems(files.problems)}` };
    tls = files.material;
  }

  if (env.masterKeySource === 'ephemeral') {
    logger.warn({ variable: 'BULWARK_MASTER_KEY' }, 'BULWARK_MASTER_KEY is not set: using an EPHEMERAL master key; API keys, sessions and the audit log are kept in memory and will not survive a restart (development only; run `bulwark secrets generate`)');
  }
  if (config.redis === undefined) logger.warn({}, 'no Redis configured: rate limits, nonces and revocations are in this process only — run ONE instance');

  const registry = options.registry ?? createMetricsRegistry();
  const database: DatabaseChoice = options.database ?? defaultDatabase(config.database?.url, env.masterKeySource === 'ephemeral', resolve(options.cwd, env.BULWARK_DATA_DIR));
  const services = await createServices({ config, masterKey: env.BULWARK_MASTER_KEY, previousMasterKey: env.BULWARK_MASTER_KEY_PREVIOUS, database, registry, logger });

  let gateway: Gateway;
  try {
    const breakers = createBreakerSet({ registry, logger, defaults: breakerDefaultsFromEnv(options.env) });
    gateway = createGateway({
      breakers,
      config,
      production,
      logger,
      registry,
      tls,
      breakerDefaults: breakerDefaultsFromEnv(options.env),
      createAuthenticator: createAuthenticatorFactory({ ...services, apiKeys: services.apiKeys, registry, logger }),
      limiters: services.limiters,
      keyLimits: services.keyLimits,
      checks: services.checks,
      builtins: options.builtins?.({ services, config, logger, breakers, registry }) ?? [],
      summary: () => services.summary(),
      allowCspReport: createCspReportLimiter(services.rateLimitStore, registry, logger),
    });
  } catch (error) {
    await services.close();
    return { ok: false, message: `The gateway could not be built: ${(error as Error).message}` };
  }

  let address: { url: string; port: number };
  try {
    address = await gateway.listen();
  } catch (error) {
    await gateway.close();
    await services.close();
    return { ok: false, message: `Cannot listen on ${config.server.host}:${config.server.port}: ${(error as Error).message}` };
  }
  logger.info({ url: address.url, routes: config.routes.length, upstreams: Object.keys(config.upstreams), tls: tls === undefined ? 'off' : { cert: tls.certName, key: tls.keyName } }, 'bulwark gateway listening');

  let shuttingDown: Promise<void> | undefined;
  const running: RunningGateway = {
    gateway,
    services,
    config,
    logger,
    url: address.url,
    port: address.port,
    async reload() {
      if (configPath === undefined) return { ok: false, error: 'no config file to reload (started with an embedded config)', problems: [] };
      const next = await checkConfigFile(resolve(options.cwd, configPath), options.env);
      if (!next.ok) {
        logger.error({ problems: next.problems }, 'config reload refused: the new config is invalid; still serving the previous one');
        return { ok: false, error: 'invalid config', problems: next.problems };
      }
      let commitServices: () => void;
      try {
        commitServices = services.prepareReload(next.config);
      } catch (error) {
        logger.error({ error: (error as Error).message }, 'config reload failed; still serving the previous one');
        return { ok: false, error: (error as Error).message };
      }
      const result = gateway.reload(next.config);
      if (result.ok) {
        commitServices();
        logger.info({ generation: result.generation, restartNeeded: result.restartNeeded }, 'config reloaded');
      } else logger.error({ error: result.error }, 'config reload failed; still serving the previous one');
      return result;
    },
    shutdown() {
      shuttingDown ??= (async () => {
        logger.info({ inFlight: gateway.runtime.inFlight }, 'shutting down: draining in-flight requests');
        await gateway.close();
        await services.close();
        logger.info({}, 'shutdown complete');
        await new Promise<void>((resolveFlush) => {
          if (logger.flush === undefined) resolveFlush();
          else logger.flush(() => resolveFlush());
        });
      })();
      return shuttingDown;
    },
  };
  return { ok: true, running };
}

/**
 * The configured PostgreSQL, else embedded PGlite in the data directory — except under an ephemeral
 * master key: what an earlier run stored there was peppered, encrypted and chained under another
 * key, so its API keys could not be verified and its audit chain would read as tampered. Such a run
 * keeps its database in memory instead.
 */
export function defaultDatabase(url: string | undefined, ephemeralMasterKey: boolean, dataDir: string): DatabaseChoice {
  if (url !== undefined) return { url };
  return ephemeralMasterKey ? { memory: true } : { dataDir };
}
