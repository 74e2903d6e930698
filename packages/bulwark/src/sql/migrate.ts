import { createHash } from 'node:crypto';
import type { SqlClient } from './sql-client.js';
import { BULWARK_MIGRATIONS } from './migrations.js';

/** One schema change. Never edit or renumber a migration once released: add a new one. */
export interface Migration {
  /** Positive integer; migrations apply in ascending order, each once. */
  readonly version: number;
  /** Short description, stored with the version. */
  readonly name: string;
  /** Statements run in order inside one transaction (one statement per string: PGlite's parameterised protocol takes one at a time). */
  readonly statements: readonly string[];
}

export interface MigrateOptions {
  /** @default BULWARK_MIGRATIONS */
  readonly migrations?: readonly Migration[];
  /**
   * Table recording applied versions. Give a separate table to another set of migrations (an
   * application's own) so their version numbers never collide with Bulwark's.
   * @default 'bulwark_migrations'
   */
  readonly table?: string;
  /**
   * The deadline of each migration statement, the lock wait included: instances starting together
   * wait here for the one migrating, and DDL on a big table takes its time — the client's short
   * request-path deadline would fail their start-up. @default 120000 (2 min)
   */
  readonly timeoutMs?: number;
}

const DEFAULT_MIGRATION_TIMEOUT_MS = 120_000;

export interface MigrateResult {
  /** Versions applied by this call, ascending (empty when the schema was already current). */
  readonly applied: readonly number[];
  /** The highest version now applied. */
  readonly version: number;
}

const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The checksum of a migration's text, stored to detect a migration edited after it was applied. */
function checksumOf(migration: Migration): string {
  return createHash('sha256').update(JSON.stringify([migration.version, migration.statements])).digest('hex');
}

function checkMigrations(migrations: readonly Migration[]): void {
  if (!Array.isArray(migrations) || migrations.length === 0) throw new TypeError('migrate: migrations must be a non-empty array');
  let previous = 0;
  for (const migration of migrations) {
    if (!Number.isSafeInteger(migration.version) || migration.version <= previous) {
      throw new TypeError(`migrate: versions must be positive integers in ascending order; ${String(migration.version)} follows ${previous}`);
    }
    if (typeof migration.name !== 'string' || migration.name.length === 0) throw new TypeError(`migrate: migration ${migration.version} needs a name`);
    if (!Array.isArray(migration.statements) || migration.statements.length === 0 || !migration.statements.every((s: unknown) => typeof s === 'string' && s.trim() !== '')) {
      throw new TypeError(`migrate: migration ${migration.version} needs at least one non-empty statement`);
    }
    previous = migration.version;
  }
}

/**
 * Brings the schema up to date. Each migration runs in its own transaction together with its row in
 * the migrations table, so a failure leaves the schema at the last complete version. Every
 * transaction first takes a transaction-scoped advisory lock (keyed by table and schema): two
 * instances starting together apply each migration once, the second waiting and then skipping it.
 * Running it again is a no-op. A migration whose text changed after it was applied is refused.
 *
 * @throws Error when an applied migration's checksum differs from the code's, or a statement fails.
 * @example
 * const sql = createPostgresClient({ url });
 * await migrate(sql); // { applied: [1, 2], version: 2 } the first time, { applied: [], version: 2 } after
 */
export async function migrate(sql: SqlClient, options: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = options.migrations ?? BULWARK_MIGRATIONS;
  const table = options.table ?? 'bulwark_migrations';
  if (!TABLE_NAME.test(table)) throw new TypeError(`migrate: table must match ${TABLE_NAME.source}; got ${JSON.stringify(table)}`);
  checkMigrations(migrations);

  const applied: number[] = [];
  for (const migration of migrations) {
    const checksum = checksumOf(migration);
    const ran = await sql.transaction(async (tx) => {
      // hashtext() is stable across PostgreSQL versions and exists in PGlite; the schema in the key
      // keeps two schemas of one database from waiting on each other.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1 || '.' || current_schema()))`, [table]);
      await tx.query(
        `CREATE TABLE IF NOT EXISTS ${table} (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const existing = await tx.query<{ checksum: string }>(`SELECT checksum FROM ${table} WHERE version = $1`, [migration.version]);
      const row = existing.rows[0];
      if (row !== undefined) {
        if (row.checksum !== checksum) {
          throw new Error(`migration ${migration.version} (${migration.name}) was changed after it was applied; add a new migration instead of editing one`);
        }
        return false;
      }
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query(`INSERT INTO ${table} (version, name, checksum) VALUES ($1, $2, $3)`, [migration.version, migration.name, checksum]);
      return true;
    }, { timeoutMs: options.timeoutMs ?? DEFAULT_MIGRATION_TIMEOUT_MS });
    if (ran) applied.push(migration.version);
  }
  const last = migrations[migrations.length - 1];
  return { applied, version: last?.version ?? 0 };
}
