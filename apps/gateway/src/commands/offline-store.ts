import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { auditChainKeys, createSqlAuditLog, type SqlAuditLog } from 'bulwark/audit';
import { apiKeyPeppers, createApiKeyAdmin, createRevocationBus, createSqlKeyStore, type ApiKeyAdmin, type KeyStore, type RevocationBus } from 'bulwark/auth';
import { bulwarkEnvSchema, formatEnvIssues, loadEnv, type EnvSource } from 'bulwark/config';
import { createKeyring, parseMasterKey } from 'bulwark/crypto';
import { createRedactor } from 'bulwark/observability';
import { openDatabase, type Database } from 'bulwark/sql';
import { loadConfigFile } from '../config/load.js';
import { formatProblems } from '../config/problems.js';

/** The key store and audit log, opened from the command line (no gateway running in this process). */
export interface OfflineStore {
  readonly keyStore: KeyStore;
  readonly audit: SqlAuditLog;
  readonly admin: ApiKeyAdmin;
  close(): Promise<void>;
}

export type OpenResult = { readonly ok: true; readonly store: OfflineStore } | { readonly ok: false; readonly message: string };

/**
 * Opens what `bulwark keys` and `bulwark audit` work on: the database of the config (`--config` or
 * BULWARK_CONFIG), else DATABASE_URL, else the embedded database in BULWARK_DATA_DIR; the keyring of
 * BULWARK_MASTER_KEY (required: a key made under an ephemeral master key would be unusable); and,
 * when Redis is configured, the revocation broadcast so that running gateways drop revoked keys.
 *
 * With the embedded database, stop the gateway first (or use its admin API): PGlite files are
 * opened by one process at a time.
 */
export async function openOfflineStore(env: EnvSource, cwd: string, configPath: string | undefined, warn: (message: string) => void = () => undefined): Promise<OpenResult> {
  const loaded = loadEnv(bulwarkEnvSchema, env);
  if (!loaded.ok) return { ok: false, message: formatEnvIssues(loaded.issues) };
  if (loaded.env.masterKeySource !== 'env') {
    return { ok: false, message: 'BULWARK_MASTER_KEY is not set: keys must be made under the master key the gateway uses (see `bulwark secrets generate`).' };
  }
  let databaseUrl = loaded.env.DATABASE_URL;
  let redisUrl = loaded.env.REDIS_URL;
  let redisPrefix = 'bulwark:';
  const path = configPath ?? loaded.env.BULWARK_CONFIG;
  if (path !== undefined) {
    const config = await loadConfigFile(resolve(cwd, path), env);
    if (!config.ok) return { ok: false, message: `Invalid config ${path}:\n${formatProblems(config.problems)}` };
    databaseUrl = config.config.database?.url ?? databaseUrl;
    redisUrl = config.config.redis?.url ?? redisUrl;
    redisPrefix = config.config.redis?.keyPrefix ?? redisPrefix;
  }

  const keyring = createKeyring({
    current: parseMasterKey(loaded.env.BULWARK_MASTER_KEY),
    previous: loaded.env.BULWARK_MASTER_KEY_PREVIOUS === undefined ? undefined : parseMasterKey(loaded.env.BULWARK_MASTER_KEY_PREVIOUS),
  });
  let database: Database;
  try {
    database = await openDatabase(databaseUrl === undefined ? { dataDir: resolve(cwd, loaded.env.BULWARK_DATA_DIR) } : { url: databaseUrl });
  } catch (error) {
    return { ok: false, message: `Cannot open the database: ${(error as Error).message}` };
  }
  const keyStore = createSqlKeyStore({ sql: database, pepper: apiKeyPeppers(keyring).pepper, encryptor: keyring });
  const audit = createSqlAuditLog({ sql: database, ...auditChainKeys(keyring), redact: createRedactor() });
  let redis: Redis | undefined;
  let revocation: RevocationBus | undefined;
  if (redisUrl !== undefined) {
    redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
    // Without a listener ioredis prints each connection error with its stack; the publish that
    // needed the connection fails on its own, and the admin's logger reports that below.
    redis.on('error', () => undefined);
    revocation = createRevocationBus({ redis, channel: `${redisPrefix}revocations` });
  }
  // The admin logs a broadcast that failed after the change committed: the operator must hear that
  // running gateways learn of it only when their cache entry expires.
  const report = (object: object, message?: string): void => {
    const error = (object as { err?: unknown }).err;
    warn(`${message ?? 'warning'}${error instanceof Error ? ` (${error.message})` : ''}`);
  };
  const logger = { error: report, warn: report, info: () => undefined, debug: () => undefined };
  return {
    ok: true,
    store: {
      keyStore,
      audit,
      admin: createApiKeyAdmin({ store: keyStore, audit, sql: database, revocation, logger }),
      async close() {
        await revocation?.close().catch(() => undefined);
        redis?.disconnect();
        await database.close();
      },
    },
  };
}
