import type { PoolClient } from 'pg';
import { silentLogger } from '../observability/logger-like.js';
import type { LoggerLike } from '../observability/logger-like.js';
import type { SqlClient, SqlResult, SqlValue } from './sql-client.js';
import { transactionClient } from './transaction-client.js';
import { checkSchemaName } from './schema-name.js';
import { createPgPool } from './pg-driver.js';

export interface PostgresClientOptions {
  /** `postgres://` or `postgresql://` connection URL. Never logged: it may hold a password. */
  readonly url: string;
  /**
   * Schema for Bulwark's tables (sets `search_path` on every connection). Lower-case letters,
   * digits and `_`, at most 63 characters. @default undefined (the server's default, usually `public`)
   */
  readonly schema?: string | undefined;
  /** Pool size. @default 10 */
  readonly maxConnections?: number | undefined;
  /** How long to wait for a connection before failing. @default 5000 */
  readonly connectionTimeoutMs?: number | undefined;
  /** Server-side limit per statement (`statement_timeout`); 0 disables it. @default 15000 */
  readonly statementTimeoutMs?: number | undefined;
  /** `application_name`, shown in `pg_stat_activity`. @default 'bulwark' */
  readonly applicationName?: string | undefined;
  /** Receives pool errors (a connection dropped while idle), which would otherwise crash the process. @default silentLogger */
  readonly logger?: LoggerLike | undefined;
}

function checkInteger(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`createPostgresClient: ${name} must be an integer from ${min} to ${max}; got ${String(value)}`);
  }
  return value;
}

/** Whether `url` names a PostgreSQL server (`postgres://` or `postgresql://`). */
export function isPostgresUrl(url: unknown): url is string {
  return typeof url === 'string' && /^postgres(?:ql)?:\/\//i.test(url);
}

/**
 * A {@link SqlClient} over a `pg` connection pool. Parameterised queries only; transactions take a
 * dedicated connection, and a connection whose `ROLLBACK` failed is destroyed rather than returned
 * to the pool in an unknown state.
 *
 * @example
 * const sql = createPostgresClient({ url: process.env.DATABASE_URL, schema: 'bulwark' });
 * const { rows } = await sql.query<{ n: number }>('SELECT $1::int AS n', [1]);
 */
export function createPostgresClient(options: PostgresClientOptions): SqlClient {
  if (!isPostgresUrl(options.url)) throw new TypeError('createPostgresClient: url must start with postgres:// or postgresql://');
  const schema = options.schema === undefined ? undefined : checkSchemaName(options.schema, 'createPostgresClient: schema');
  const maxConnections = checkInteger('maxConnections', options.maxConnections, 10, 1, 1000);
  const connectionTimeoutMs = checkInteger('connectionTimeoutMs', options.connectionTimeoutMs, 5000, 1, 600_000);
  const statementTimeoutMs = checkInteger('statementTimeoutMs', options.statementTimeoutMs, 15_000, 0, 86_400_000);
  const applicationName = options.applicationName ?? 'bulwark';
  const logger = options.logger ?? silentLogger;

  const pool = createPgPool({
    connectionString: options.url,
    max: maxConnections,
    connectionTimeoutMillis: connectionTimeoutMs,
    statement_timeout: statementTimeoutMs === 0 ? false : statementTimeoutMs,
    application_name: applicationName,
    // The schema name was validated against [a-z_][a-z0-9_]*, so it needs no quoting here.
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  pool.on('error', (error) => logger.error({ err: error }, 'idle PostgreSQL connection failed; the pool will replace it'));

  let closed = false;
  const refuseClosed = (): Promise<never> => Promise.reject(new Error('the PostgreSQL client is closed'));

  const client: SqlClient = {
    dialect: 'postgres',
    async query<T extends object>(text: string, params: readonly SqlValue[] = []): Promise<SqlResult<T>> {
      if (closed) return refuseClosed();
      const result = await pool.query(text, params as unknown[]);
      return { rows: result.rows as T[] };
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      if (closed) return refuseClosed();
      const connection: PoolClient = await pool.connect();
      let open = true;
      let destroy = false;
      // pg-pool drops its idle 'error' listener while a client is checked out: a connection that dies
      // mid-transaction would emit an unhandled 'error' and end the process. The failing query
      // rejects on its own; this listener only keeps the event handled and the client out of the pool.
      const onConnectionError = (error: Error): void => {
        destroy = true;
        logger.warn({ err: error }, 'PostgreSQL connection failed during a transaction');
      };
      connection.on('error', onConnectionError);
      try {
        await connection.query('BEGIN');
        const tx = transactionClient(
          'postgres',
          async <R extends object>(text: string, params: readonly SqlValue[]) => ({ rows: (await connection.query(text, params as unknown[])).rows as R[] }),
          () => open,
        );
        const result = await fn(tx);
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await connection.query('ROLLBACK');
        } catch {
          destroy = true;
        }
        throw error;
      } finally {
        open = false;
        connection.off('error', onConnectionError);
        connection.release(destroy);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
  return Object.freeze(client);
}
