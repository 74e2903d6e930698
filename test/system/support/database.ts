import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openDatabase } from 'bulwark/sql';
import { REPO_ROOT } from './gateway-process.js';

const execFileAsync = promisify(execFile);
const CLI = join(REPO_ROOT, 'apps/gateway/src/cli.ts');

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
 * Creates a key the way an operator makes the first admin key of a deployment: `bulwark keys
 * create` on the command line (a real process, the same master key as the gateways, the key and
 * its audit entry in one transaction). The admin API needs an admin key to begin with.
 */
export async function createKeyWithCli(database: TestDatabase, masterKey: string, input: { readonly name: string; readonly tenant: string; readonly scopes: readonly string[] }): Promise<{ readonly key: string; readonly id: string }> {
  const args = ['keys', 'create', '--name', input.name, '--tenant', input.tenant, '--env', 'test', ...input.scopes.flatMap((scope) => ['--scope', scope])];
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', NODE_ENV: 'production', METRICS_ALLOWED_IPS: 'loopback', BULWARK_MASTER_KEY: masterKey, DATABASE_URL: database.url() };
  const { stdout } = await execFileAsync(process.execPath, ['--conditions=bulwark-source', '--import', 'tsx', CLI, ...args], { cwd: REPO_ROOT, env, timeout: 60_000 });
  const key = /key \(shown once\): (\S+)/.exec(stdout)?.[1];
  const id = /^(\S+)\s/.exec(stdout)?.[1];
  if (key === undefined || id === undefined) throw new Error(`bulwark keys create printed no key:\n${stdout}`);
  return { key, id };
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
