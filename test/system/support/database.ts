import { randomBytes } from 'node:crypto';
import { createApiKeyAdmin, createSqlKeyStore, type CreatedApiKey } from 'bulwark/auth';
import { auditChainKeys, createSqlAuditLog } from 'bulwark/audit';
import { createKeyring, parseMasterKey } from 'bulwark/crypto';
import { createMetricsRegistry, createRedactor } from 'bulwark/observability';
import { openDatabase } from 'bulwark/sql';

/**
 * A schema of its own in the machine's PostgreSQL (database `test`), dropped afterwards. The
 * gateways reach it through `DATABASE_URL` with `search_path` in the URL's `options` parameter — the
 * way an operator would point Bulwark at a schema — so no gateway code is configured specially.
 */
export interface TestDatabase {
  readonly schema: string;
  /** `DATABASE_URL` for a gateway, through `port` (a TCP proxy) or PostgreSQL itself. */
  url(port?: number): string;
  drop(): Promise<void>;
}

const POSTGRES = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };

export function postgresTarget(): { readonly host: string; readonly port: number } {
  return { host: POSTGRES.host, port: POSTGRES.port };
}

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const schema = `sys_${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = (port = POSTGRES.port): string => `postgres://${POSTGRES.user}@${POSTGRES.host}:${port}/${POSTGRES.database}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const admin = await openDatabase({ url: url(), migrate: false });
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.close();
  }
  return {
    schema,
    url,
    async drop() {
      const client = await openDatabase({ url: url(), migrate: false });
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.close();
      }
    },
  };
}

/**
 * Creates a key directly in the database, as `bulwark keys create` does on the operator's machine:
 * the same master key (so the same pepper), the key and its audit entry in one transaction. The
 * first admin key of a deployment has to come from somewhere other than the admin API.
 */
export async function createKeyInDatabase(database: TestDatabase, masterKey: string, input: { readonly name: string; readonly tenant: string; readonly scopes: readonly string[] }): Promise<CreatedApiKey> {
  const sql = await openDatabase({ url: database.url() });
  try {
    const keyring = createKeyring({ current: parseMasterKey(masterKey) });
    const registry = createMetricsRegistry();
    const store = createSqlKeyStore({ sql, pepper: keyring.subkey('api-key-pepper'), encryptor: keyring });
    const audit = createSqlAuditLog({ sql, ...auditChainKeys(keyring), redact: createRedactor(), registry });
    const admin = createApiKeyAdmin({ store, audit, sql });
    return await admin.create({ name: input.name, tenant: input.tenant, env: 'test', scopes: [...input.scopes] }, { actor: 'cli:system-test' });
  } finally {
    await sql.close();
  }
}

/** Counts rows of Bulwark's tables in the schema (audit entries by action, keys). */
export async function countRows(database: TestDatabase, query: string, params: readonly (string | number)[] = []): Promise<number> {
  const sql = await openDatabase({ url: database.url(), migrate: false });
  try {
    const { rows } = await sql.query<{ n: number | string }>(query, params);
    return Number(rows[0]?.n ?? 0);
  } finally {
    await sql.close();
  }
}
