import { randomBytes } from 'node:crypto';
import { startDemoUpstream, type DemoUpstream } from '../../../apps/gateway/src/demo/demo-upstream.js';
import { startTestGateway, type TestGateway } from '../../../apps/gateway/test/support/gateway.js';
import { CONSOLE_DIST, ensureConsoleBuilt } from './console-build.js';

/**
 * A real gateway serving the built console on 127.0.0.1 (a secure context for Chromium, so the
 * `__Host-` cookie works over plain HTTP): embedded defaults with in-process stores, the demo
 * upstream behind two routes with rate limits, a second upstream that is down (a breaker with
 * something to show), and an admin key made through the key store as `bulwark keys create` does.
 * Loopback is a trusted proxy, so each browser context can sign in from an address of its own
 * (`X-Forwarded-For`): lockouts then do not cross tests.
 */
export interface ConsoleGateway {
  readonly url: string;
  /** `console.path` (`/console` unless the options moved it). */
  readonly consolePath: string;
  readonly gateway: TestGateway;
  readonly adminKey: string;
  readonly adminKeyId: string;
  /** Keys in the store (the admin API's view, revoked ones included). */
  keyNames(): Promise<string[]>;
  /** Runs SQL in the gateway's database (PostgreSQL gateways only): tampering, as an intruder would. */
  sql(statement: string): Promise<void>;
  close(): Promise<void>;
}

export interface ConsoleGatewayOptions {
  /**
   * `postgres`: API keys and the audit log in a schema of their own in the machine's PostgreSQL
   * (dropped on close), as a deployment keeps them; `memory`: in-process stores (faster).
   * @default 'memory'
   */
  readonly database?: 'postgres' | 'memory';
  /** Merged into the `console` section (`path`, `idleTimeout`…); `assetsDir` is the built console. */
  readonly console?: Readonly<Record<string, unknown>>;
  /** The `admin` section (`prefix`…). */
  readonly admin?: Readonly<Record<string, unknown>>;
}

const POSTGRES_URL = process.env['BULWARK_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function startConsoleGateway(options: ConsoleGatewayOptions = {}): Promise<ConsoleGateway> {
  ensureConsoleBuilt();
  const schema = options.database === 'postgres' ? `bw_console_${process.pid}_${randomBytes(4).toString('hex')}` : undefined;
  const upstream: DemoUpstream = await startDemoUpstream();
  let gateway: TestGateway;
  try {
    gateway = await startTestGateway({
      config: {
        server: { trustedProxies: ['loopback'] },
        upstreams: {
          demo: { url: upstream.url },
          // Nothing listens on port 9 (discard) on loopback: a breaker for an upstream that is down.
          billing: { url: 'http://127.0.0.1:9' },
        },
        routes: [
          { name: 'status', match: { path: '/status', methods: ['GET'] }, upstream: 'demo', public: true, rateLimits: [{ name: 'status-per-ip', limit: 60, window: '1m', by: 'ip' }] },
          { name: 'api', match: { prefix: '/api' }, upstream: 'demo', stripPrefix: true, auth: { type: 'apiKey' }, rateLimits: [{ name: 'api-per-key', limit: 100, window: '1m', by: 'apiKey' }] },
          { name: 'billing', match: { prefix: '/billing' }, upstream: 'billing', stripPrefix: true, auth: { type: 'apiKey' } },
        ],
        console: { assetsDir: CONSOLE_DIST, ...options.console },
        ...(options.admin === undefined ? {} : { admin: options.admin }),
      },
      ...(schema === undefined ? {} : { database: { url: POSTGRES_URL, schema } }),
    });
  } catch (error) {
    await upstream.close();
    throw error;
  }
  const admin = await gateway.createKey(['admin'], { tenant: 'ops' });
  return {
    url: gateway.url,
    consolePath: gateway.running.config.console.path,
    gateway,
    adminKey: admin.key,
    adminKeyId: admin.id,
    async keyNames() {
      const page = await gateway.running.services.keyStore.list({ includeRevoked: true, limit: 1000 });
      return page.records.map((record) => record.name);
    },
    async sql(statement) {
      const database = gateway.running.services.database;
      if (database === undefined) throw new Error('this test gateway has no database (start it with database: postgres)');
      await database.query(statement);
    },
    async close() {
      if (schema !== undefined) await gateway.running.services.database?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await gateway.close();
      await upstream.close();
    },
  };
}
