import { join } from 'node:path';
import type { LoggerLike } from '../observability/logger-like.js';
import { migrate } from './migrate.js';
import type { MigrateResult } from './migrate.js';
import { openPglite } from './pglite.js';
import { createPostgresClient, isPostgresUrl } from './postgres.js';
import { checkSchemaName } from './schema-name.js';
import { isUniqueViolation } from './sql-client.js';
import type { SqlClient } from './sql-client.js';

export interface OpenDatabaseOptions {
  /** A `postgres://` URL (`DATABASE_URL`): use that server. Takes precedence over `dataDir`. @default undefined */
  readonly url?: string | undefined;
  /**
   * Directory for embedded PGlite when no `url` is given (`BULWARK_DATA_DIR`); its files go to
   * `<dataDir>/pglite`. @default undefined
   */
  readonly dataDir?: string | undefined;
  /**
   * Keep the embedded database in memory: tests only — everything is lost on exit. One of `url`,
   * `dataDir` or `memory: true` is required, so a missing setting can never silently lose data.
   * @default false
   */
  readonly memory?: boolean | undefined;
  /** Schema for Bulwark's tables, created when missing. @default undefined (`public`) */
  readonly schema?: string | undefined;
  /** Apply {@link BULWARK_MIGRATIONS} before returning. @default true */
  readonly migrate?: boolean | undefined;
  /** PostgreSQL pool size. @default 10 */
  readonly maxConnections?: number | undefined;
  /** PostgreSQL server-side limit per statement (`createPostgresClient`). @default 4000 */
  readonly statementTimeoutMs?: number | undefined;
  /** PostgreSQL client-side deadline per query (`createPostgresClient`). @default statementTimeoutMs + 1000 */
  readonly queryTimeoutMs?: number | undefined;
  /** Receives PostgreSQL pool errors. @default silentLogger */
  readonly logger?: LoggerLike | undefined;
}

/** An open database: a {@link SqlClient}, plus what the migrations did. */
export interface Database extends SqlClient {
  readonly migrations: MigrateResult | undefined;
}

/**
 * Opens Bulwark's database: PostgreSQL when `url` is a `postgres://` URL, otherwise embedded
 * PGlite in `dataDir` (or in memory with `memory: true`), then applies the migrations. The same
 * SQL runs on both.
 *
 * @throws TypeError when no storage is chosen, or `url` is not a PostgreSQL URL.
 * @example
 * const db = await openDatabase({ url: process.env.DATABASE_URL, dataDir: process.env.BULWARK_DATA_DIR });
 * const { rows } = await db.query('SELECT count(*)::int AS n FROM bulwark_api_keys');
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const { url, dataDir, memory = false } = options;
  if (url !== undefined && url !== '' && !isPostgresUrl(url)) {
    throw new TypeError('openDatabase: url must be a postgres:// or postgresql:// URL (DATABASE_URL); leave it unset to use the embedded database');
  }
  const schema = options.schema === undefined ? undefined : checkSchemaName(options.schema, 'openDatabase: schema');
  let sql: SqlClient;
  if (url !== undefined && url !== '') {
    const { maxConnections, statementTimeoutMs, queryTimeoutMs, logger } = options;
    sql = createPostgresClient({ url, schema, maxConnections, statementTimeoutMs, queryTimeoutMs, logger });
    if (schema !== undefined) {
      try {
        await sql.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } catch (error) {
        // IF NOT EXISTS is checked before the insert into pg_namespace: instances starting together
        // can all pass it, and the losers fail on its unique index once the winner has committed —
        // the schema exists then, which is all this asked for (the migrations below take a lock).
        if (!isUniqueViolation(error)) {
          await sql.close();
          throw error;
        }
      }
    }
  } else if (dataDir !== undefined && dataDir !== '') {
    sql = await openPglite({ dataDir: join(dataDir, 'pglite'), schema });
  } else if (memory) {
    sql = await openPglite({ schema });
  } else {
    throw new TypeError('openDatabase: set url (DATABASE_URL) for PostgreSQL, dataDir (BULWARK_DATA_DIR) for the embedded database, or memory: true for tests');
  }

  let migrations: MigrateResult | undefined;
  if (options.migrate ?? true) {
    try {
      migrations = await migrate(sql);
    } catch (error) {
      await sql.close();
      throw error;
    }
  }
  return Object.freeze({ ...sql, migrations });
}
