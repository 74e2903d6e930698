import { Redis } from 'ioredis';
import {
  apiKeyPeppers,
  createApiKeyVerifier,
  createLastUsedRecorder,
  createMemoryReplayStore,
  createMemoryRevocationBus,
  createRedisReplayStore,
  createRevocationBus,
  createMemoryKeyStore,
  createSqlKeyStore,
  type ApiKeyVerifier,
  type KeyStore,
  type LastUsedRecorder,
  type ReplayStore,
  type RevocationBus,
} from 'bulwark/auth';
import { watchAuditChain } from './audit-watch.js';
import { auditChainKeys, createMemoryAuditLog, createSqlAuditLog, type AuditLog } from 'bulwark/audit';
import { createKeyring, parseMasterKey, type Keyring } from 'bulwark/crypto';
import { createRedactor, type LoggerLike } from 'bulwark/observability';
import { createMemoryStore, createRedisStore, createResilientStore, RATE_LIMIT_REDIS_OPTIONS, type RateLimitStore } from 'bulwark/ratelimit';
import { openDatabase, type Database } from 'bulwark/sql';
import type { Registry } from 'prom-client';
import { createClientIpResolver } from 'bulwark/http';
import { createCsrfProtection, createMemorySessionStore, createRedisSessionStore, createSessionHttp, createSessionPort, type SessionHttp } from 'bulwark/session';
import { createSigningKeyDirectory, type SigningKeyDirectory } from '../auth/signing-keys.js';
import type { SessionPort } from '../auth/session-authenticator.js';
import type { GatewayConfig } from '../config/resolve.js';
import type { HealthCheck } from '../health/health-check.js';
import { createKeyLimits, type KeyLimits } from '../limits/key-limits.js';
import { createLimiterSet, type LimiterSet } from '../limits/limiter-set.js';

/**
 * Where API keys and the audit log live: PostgreSQL, embedded PGlite in a directory (or in memory),
 * or — tests only — no database at all (in-process key store and audit log).
 */
export type DatabaseChoice = { readonly url: string; readonly schema?: string } | { readonly dataDir: string } | { readonly memory: true } | { readonly inProcess: true };

export interface ServicesOptions {
  readonly config: GatewayConfig;
  /** `BULWARK_MASTER_KEY` (base64url). */
  readonly masterKey: string;
  /** `BULWARK_MASTER_KEY_PREVIOUS`, during a rotation. */
  readonly previousMasterKey?: string | undefined;
  readonly database: DatabaseChoice;
  readonly registry: Registry;
  readonly logger: LoggerLike;
  /** Replaces the session check built from the config (tests). */
  readonly sessions?: SessionPort | undefined;
}

/**
 * The process-level services: everything that outlives a config reload and holds a connection or
 * state — the keyring, the database (API keys, audit log), Redis (limits, nonces, revocations) or
 * the in-process memory stores, and the verifiers built on them.
 */
export interface GatewayServices {
  readonly keyring: Keyring;
  /** The database of the key store and the audit log; `undefined` with in-process stores. */
  readonly database: Database | undefined;
  readonly keyStore: KeyStore;
  /** The tamper-evident audit log (admin changes are written in the same transaction as the change). */
  readonly audit: AuditLog;
  readonly apiKeys: ApiKeyVerifier;
  readonly revocation: RevocationBus;
  readonly lastUsed: LastUsedRecorder;
  readonly replayStore: ReplayStore;
  readonly signingKeys: SigningKeyDirectory;
  readonly rateLimitStore: RateLimitStore;
  readonly limiters: LimiterSet;
  /** The limits API keys carry themselves (`limits` of a key). */
  readonly keyLimits: KeyLimits;
  readonly redis: Redis | undefined;
  /** Session checks for `auth: { type: session }` (bulwark/session, sessions the application created). */
  readonly sessions: SessionPort;
  /** The session store behind them (admin: revoke a user's sessions). */
  readonly sessionHttp: SessionHttp;
  /** Readiness checks of the database and Redis. */
  readonly checks: readonly HealthCheck[];
  /**
   * Prepares the parts of a reloaded config that the services hold — the keys of `signatureKeys` —
   * and returns the function that swaps them in (called once the new route table is in place).
   * @throws TypeError on a signature key the verifier cannot use (validation reports it first).
   */
  prepareReload(config: GatewayConfig): () => void;
  /** Memory-store and Redis details for /health/summary. */
  summary(): Record<string, unknown>;
  /** Flushes batched writes, then closes Redis and the database. */
  close(): Promise<void>;
}

export async function createServices(options: ServicesOptions): Promise<GatewayServices> {
  const { config, registry, logger } = options;
  const keyring = createKeyring({
    current: parseMasterKey(options.masterKey),
    previous: options.previousMasterKey === undefined ? undefined : parseMasterKey(options.previousMasterKey),
  });

  const choice = options.database;
  const database = 'inProcess' in choice ? undefined : await openDatabase({ ...databaseOptions(choice), logger });
  const closers: (() => Promise<void>)[] = database === undefined ? [] : [() => database.close()];
  try {
    const pepper = keyring.subkey('api-key-pepper');
    const auditOptions = { ...auditChainKeys(keyring), redact: createRedactor(), registry, logger };
    const keyStore = database === undefined ? createMemoryKeyStore({ pepper, encryptor: keyring }) : createSqlKeyStore({ sql: database, pepper, encryptor: keyring });
    const audit = database === undefined ? createMemoryAuditLog(auditOptions) : createSqlAuditLog({ sql: database, ...auditOptions });
    const stopAuditWatch = watchAuditChain(audit, logger);
    closers.unshift(async () => stopAuditWatch());

    let redis: Redis | undefined;
    let revocation: RevocationBus;
    let replayStore: ReplayStore;
    let rateLimitStore: RateLimitStore;
    const redisConfig = config.redis;
    if (redisConfig === undefined) {
      revocation = createMemoryRevocationBus();
      replayStore = createMemoryReplayStore({ maxSize: 100_000 });
      rateLimitStore = createMemoryStore({ registry, logger });
    } else {
      const client = new Redis(redisConfig.url, { ...RATE_LIMIT_REDIS_OPTIONS, lazyConnect: false, connectionName: 'bulwark-gateway' });
      redis = client;
      client.on('error', (error: Error) => logger.warn({ err: error }, 'redis connection error'));
      // Commands fail fast while disconnected (no offline queue): wait for the first connection, so
      // that start-up traffic is counted in Redis rather than in the local fallback.
      if (!(await readyWithin(client, REDIS_READY_TIMEOUT_MS))) {
        logger.warn({ timeoutMs: REDIS_READY_TIMEOUT_MS }, 'Redis is not reachable yet: limits use their onStoreFailure until it is');
      }
      closers.unshift(async () => {
        client.disconnect();
      });
      revocation = createRevocationBus({ redis: client, channel: `${redisConfig.keyPrefix}revocations`, logger });
      closers.unshift(() => revocation.close());
      replayStore = createRedisReplayStore({ client, prefix: `${redisConfig.keyPrefix}replay:` });
      rateLimitStore = createResilientStore({
        redis: createRedisStore({ client, timeoutMs: redisConfig.timeoutMs, namespace: `${redisConfig.keyPrefix}rl:`, registry, logger }),
        local: createMemoryStore({ name: 'local-fallback', registry, logger }),
        registry,
        logger,
      });
    }

    const lastUsed = createLastUsedRecorder({ store: keyStore, logger });
    closers.unshift(() => lastUsed.close());
    const apiKeys = createApiKeyVerifier({ store: keyStore, ...apiKeyPeppers(keyring), revocation, lastUsed, registry, logger });
    closers.unshift(() => apiKeys.close());
    // The keys of `signatureKeys` follow config reloads (a secret removed from the file must stop
    // verifying); the signing keys of the key store, cached and revocation-aware, are built once.
    const storeSigningKeys = createSigningKeyDirectory({ configKeys: {}, store: keyStore, revocation, logger });
    closers.unshift(async () => storeSigningKeys.close());
    let configSigningKeys = createSigningKeyDirectory({ configKeys: config.signatureKeys });
    const signingKeys: SigningKeyDirectory = {
      async lookup(keyId) {
        return (await configSigningKeys.lookup(keyId)) ?? storeSigningKeys.lookup(keyId);
      },
      close: () => storeSigningKeys.close(),
    };
    const sessionStore =
      redis === undefined
        ? createMemorySessionStore({ keyring, registry, logger })
        : createRedisSessionStore({ client: redis, keyring, keyPrefix: `${config.redis?.keyPrefix ?? 'bulwark:'}session:`, registry, logger });
    const sessionHttp = createSessionHttp({
      store: sessionStore,
      ...(config.sessions.cookieName === undefined ? {} : { cookieName: config.sessions.cookieName }),
      cookie: { secure: config.sessions.secureCookie },
      clientIp: createClientIpResolver({ trustedProxies: config.server.trustedProxies }),
      csrf: createCsrfProtection({ secrets: [keyring.subkey('csrf')], trustedOrigins: config.sessions.trustedOrigins, registry, logger }),
    });
    const sessions = options.sessions ?? createSessionPort(sessionHttp);
    const limiters = createLimiterSet({ store: rateLimitStore, expectedInstances: redisConfig?.expectedInstances ?? 1, registry, logger });
    closers.unshift(async () => limiters.dispose());
    const keyLimits = createKeyLimits({ store: rateLimitStore, registry, logger });
    closers.unshift(async () => keyLimits.dispose());

    const checks: HealthCheck[] = [];
    if (database !== undefined) {
      checks.push({
        name: 'database',
        required: true,
        check: async () => {
          await database.query('SELECT 1');
          return true;
        },
      });
    }
    if (redis !== undefined) {
      const client = redis;
      checks.push({ name: 'redis', required: redisConfig?.required ?? true, check: async () => (await client.ping()) === 'PONG' });
    }

    return {
      keyring,
      database,
      keyStore,
      audit,
      apiKeys,
      revocation,
      lastUsed,
      replayStore,
      signingKeys,
      rateLimitStore,
      limiters,
      keyLimits,
      redis,
      sessions,
      sessionHttp,
      checks,
      prepareReload(next) {
        const nextSigningKeys = createSigningKeyDirectory({ configKeys: next.signatureKeys });
        return () => {
          configSigningKeys = nextSigningKeys;
        };
      },
      summary: () => ({
        stores: {
          rateLimits: rateLimitStore.name,
          database: database?.dialect ?? 'in-process (no database)',
          redis: redis === undefined ? 'not configured (memory stores: one instance only)' : redis.status,
          ...('stats' in rateLimitStore && typeof rateLimitStore.stats === 'function' ? { rateLimitStats: (rateLimitStore.stats as () => unknown)() } : {}),
        },
        limiters: limiters.names(),
      }),
      async close() {
        for (const close of closers) {
          try {
            // A dependency that is down must not hold the shutdown: each close gets a deadline.
            await withDeadline(close(), CLOSE_DEADLINE_MS);
          } catch (error) {
            logger.warn({ err: error }, 'closing a service failed');
          }
        }
      },
    };
  } catch (error) {
    for (const close of closers) await close().catch(() => undefined);
    throw error;
  }
}

/** How long each service may take to close on shutdown. */
const CLOSE_DEADLINE_MS = 3000;

function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`did not close within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** How long start-up waits for Redis before serving with the limits' failure modes. */
const REDIS_READY_TIMEOUT_MS = 5000;

function readyWithin(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(false), timeoutMs);
    const onReady = (): void => finish(true);
    function finish(ready: boolean): void {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ready);
    }
    client.on('ready', onReady);
  });
}

function databaseOptions(choice: Exclude<DatabaseChoice, { readonly inProcess: true }>): { url?: string; schema?: string; dataDir?: string; memory?: boolean } {
  if ('url' in choice) return { url: choice.url, ...(choice.schema === undefined ? {} : { schema: choice.schema }) };
  if ('dataDir' in choice) return { dataDir: choice.dataDir };
  return { memory: true };
}
