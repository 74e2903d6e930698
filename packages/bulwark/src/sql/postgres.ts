import type { PoolClient, QueryConfig } from 'pg';
import { silentLogger } from '../observability/logger-like.js';
import type { LoggerLike } from '../observability/logger-like.js';
import type { SqlClient, SqlResult, SqlValue, TransactionOptions } from './sql-client.js';
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
  /**
   * Server-side limit per statement (`statement_timeout`): the server cancels a slower statement and
   * the connection stays usable. 0 disables it. @default 4000
   */
  readonly statementTimeoutMs?: number | undefined;
  /**
   * Client-side deadline per query (pg `query_timeout`): how long to wait for the server's answer.
   * It is what bounds a query the server never sees — a partition, a hung server — which
   * `statement_timeout` cannot. A query past it rejects, and its connection is destroyed, never
   * returned to the pool (its reply may still arrive). Keep it above `statementTimeoutMs`, so that a
   * server that can answer cancels first. 0 disables it.
   * @default statementTimeoutMs + 1000 (5000), or 0 when statementTimeoutMs is 0
   */
  readonly queryTimeoutMs?: number | undefined;
  /** `application_name`, shown in `pg_stat_activity`. @default 'bulwark' */
  readonly applicationName?: string | undefined;
  /** Receives pool errors (a connection dropped while idle), which would otherwise crash the process. @default silentLogger */
  readonly logger?: LoggerLike | undefined;
}

function checkInteger(name: string, value: number | undefined, fallback: number, min: number, max: number, where = 'createPostgresClient'): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${where}: ${name} must be an integer from ${min} to ${max}; got ${String(value)}`);
  }
  return value;
}

/**
 * A query got no answer within `queryTimeoutMs`: the server is unreachable or hung. Its connection
 * was destroyed. Callers treat it like any other unavailable database (the gateway: 503).
 */
export class PostgresQueryTimeoutError extends Error {
  override readonly name = 'PostgresQueryTimeoutError';
}

/** pg rejects a query past its `query_timeout` with this message (pg/lib/client.js), and no code. */
function isQueryTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Query read timeout';
}

/** Whether `url` names a PostgreSQL server (`postgres://` or `postgresql://`). */
export function isPostgresUrl(url: unknown): url is string {
  return typeof url === 'string' && /^postgres(?:ql)?:\/\//i.test(url);
}

/**
 * A {@link SqlClient} over a `pg` connection pool. Parameterised queries only; transactions take a
 * dedicated connection, and a connection whose `ROLLBACK` failed, or whose query passed
 * `queryTimeoutMs`, is destroyed rather than returned to the pool in an unknown state. Every wait is
 * bounded: `connectionTimeoutMs` for a connection, `queryTimeoutMs` for each answer — a partitioned
 * or hung server costs a caller at most their sum, never "until the network heals".
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
  const statementTimeoutMs = checkInteger('statementTimeoutMs', options.statementTimeoutMs, 4000, 0, 86_400_000);
  const queryTimeoutMs = checkInteger('queryTimeoutMs', options.queryTimeoutMs, statementTimeoutMs === 0 ? 0 : statementTimeoutMs + 1000, 0, 86_400_000);
  const applicationName = options.applicationName ?? 'bulwark';
  const logger = options.logger ?? silentLogger;

  const pool = createPgPool({
    connectionString: options.url,
    max: maxConnections,
    connectionTimeoutMillis: connectionTimeoutMs,
    statement_timeout: statementTimeoutMs === 0 ? false : statementTimeoutMs,
    // pg-pool removes a client whose query failed (pool.query releases it with the error, and
    // transaction() below releases it with destroy); pg's end() destroys the socket of a client
    // with a query still outstanding, so a late reply never reaches a reused connection.
    ...(queryTimeoutMs === 0 ? {} : { query_timeout: queryTimeoutMs }),
    application_name: applicationName,
    // The schema name was validated against [a-z_][a-z0-9_]*, so it needs no quoting here.
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  pool.on('error', (error) => logger.error({ err: error }, 'idle PostgreSQL connection failed; the pool will replace it'));

  let closed = false;
  const refuseClosed = (): Promise<never> => Promise.reject(new Error('the PostgreSQL client is closed'));
  /** pg's "Query read timeout", with the deadline named; the original stays as `cause`. */
  const timedOut = (error: unknown, deadlineMs = queryTimeoutMs): unknown =>
    isQueryTimeout(error) ? new PostgresQueryTimeoutError(`PostgreSQL did not answer within ${deadlineMs} ms`, { cause: error }) : error;

  const client: SqlClient = {
    dialect: 'postgres',
    async query<T extends object>(text: string, params: readonly SqlValue[] = []): Promise<SqlResult<T>> {
      if (closed) return refuseClosed();
      try {
        const result = await pool.query(text, params as unknown[]);
        return { rows: result.rows as T[] };
      } catch (error) {
        throw timedOut(error);
      }
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>, transactionOptions: TransactionOptions = {}): Promise<T> {
      if (closed) return refuseClosed();
      const statementTimeout = transactionOptions.timeoutMs === undefined ? undefined : checkInteger('timeoutMs', transactionOptions.timeoutMs, 0, 1, 86_400_000, 'transaction');
      const deadline = statementTimeout === undefined ? queryTimeoutMs : statementTimeout + 1000;
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
      const run = async (text: string, params: readonly SqlValue[] = []): Promise<{ rows: unknown[]; command: string }> => {
        try {
          if (statementTimeout === undefined) return await connection.query(text, params as unknown[]);
          // pg reads a per-query `query_timeout` (client.js) that @types/pg does not declare.
          const config: QueryConfig & { readonly query_timeout: number } = { text, values: params as unknown[], query_timeout: deadline };
          return await connection.query(config);
        } catch (error) {
          // The connection still waits for the late answer: a ROLLBACK would queue behind it and
          // wait out a second deadline. Destroying the connection ends the transaction instead.
          if (isQueryTimeout(error)) destroy = true;
          throw timedOut(error, deadline);
        }
      };
      try {
        await run('BEGIN');
        // An integer checked above: SET takes no bound parameters.
        if (statementTimeout !== undefined) await run(`SET LOCAL statement_timeout = ${statementTimeout}`);
        const tx = transactionClient('postgres', async <R extends object>(text: string, params: readonly SqlValue[]) => ({ rows: (await run(text, params)).rows as R[] }), () => open);
        const result = await fn(tx);
        // A statement that failed aborts the whole transaction, and PostgreSQL answers the COMMIT of
        // an aborted transaction with ROLLBACK, not an error: when `fn` caught that failure itself,
        // resolving here would report work as saved that was discarded (PGlite throws here too).
        const commit = await run('COMMIT');
        if (commit.command === 'ROLLBACK') throw new Error('the transaction was rolled back instead of committed: a statement in it failed (use a nested transaction to recover from a failed statement)');
        return result;
      } catch (error) {
        if (!destroy) {
          try {
            await connection.query('ROLLBACK');
          } catch {
            destroy = true;
          }
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
