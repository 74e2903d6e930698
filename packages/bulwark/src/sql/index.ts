/**
 * The SQL layer: one small client interface over PostgreSQL (`pg`) and embedded PGlite, versioned
 * migrations that run unchanged on both, and {@link openDatabase} to pick one. See docs/sql.md.
 */
export type { SqlClient, SqlDialect, SqlResult, SqlValue, TransactionOptions } from './sql-client.js';
export { isUniqueViolation, sqlState } from './sql-client.js';
export { createPostgresClient, isPostgresUrl, PostgresQueryTimeoutError } from './postgres.js';
export type { PostgresClientOptions } from './postgres.js';
export { openPglite } from './pglite.js';
export type { PgliteClientOptions } from './pglite.js';
export { migrate } from './migrate.js';
export type { Migration, MigrateOptions, MigrateResult } from './migrate.js';
export { BULWARK_MIGRATIONS } from './migrations.js';
export { openDatabase } from './open-database.js';
export type { Database, OpenDatabaseOptions } from './open-database.js';
