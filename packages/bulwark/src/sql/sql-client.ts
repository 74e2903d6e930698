/**
 * The SQL surface Bulwark's persistent stores need, small enough that PostgreSQL (through `pg`) and
 * embedded PGlite implement it identically. Every query is parameterised (`$1`, `$2`, …): no code
 * in Bulwark builds SQL text from values.
 */

/** A value bound to a `$n` parameter. Arrays bind to PostgreSQL arrays (`text[]`, `timestamptz[]`). */
export type SqlValue = string | number | boolean | null | Date | Uint8Array | readonly string[] | readonly number[] | readonly Date[];

/** Rows of a query, as the driver parsed them (`timestamptz` → `Date`, `jsonb` → value, `text[]` → `string[]`). */
export interface SqlResult<T> {
  readonly rows: T[];
}

/** Which engine is behind a {@link SqlClient}. */
export type SqlDialect = 'postgres' | 'pglite';

/** Options of one transaction. */
export interface TransactionOptions {
  /**
   * The deadline of each statement of this transaction, in place of the client's (PostgreSQL:
   * `statement_timeout` on the server, and the client-side query deadline 1 s after it). For
   * start-up work that may wait on another instance, such as migrations behind their lock; request
   * paths keep the client's short deadline. Ignored by PGlite (embedded: nothing to wait for).
   */
  readonly timeoutMs?: number | undefined;
}

export interface SqlClient {
  /** The engine behind this client. Both speak the same SQL; this exists for logs and diagnostics. */
  readonly dialect: SqlDialect;
  /**
   * Runs one statement with bound parameters. `int8`/`bigint` columns come back as `string` from
   * PostgreSQL and as `number` from PGlite: cast in SQL or convert with `Number()`.
   */
  query<T extends object = Record<string, unknown>>(text: string, params?: readonly SqlValue[]): Promise<SqlResult<T>>;
  /**
   * Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. Inside,
   * use ONLY the `tx` client (the outer client would wait for the transaction, or use another
   * connection). Calling `tx.transaction` nests with a savepoint.
   */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Releases the connections (or the embedded database). A transaction client cannot be closed. */
  close(): Promise<void>;
}

/** The SQLSTATE of an error from either driver, if it has one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Whether `error` is a unique-constraint violation (SQLSTATE 23505). */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505';
}

/**
 * Runs `fn` under a savepoint of an open transaction, so a nested failure rolls back only its own
 * work. Shared by both clients: savepoints are plain SQL.
 */
export async function withSavepoint<T>(tx: SqlClient, depth: number, fn: (tx: SqlClient) => Promise<T>): Promise<T> {
  const name = `bulwark_sp_${depth}`;
  await tx.query(`SAVEPOINT ${name}`);
  try {
    const result = await fn(tx);
    await tx.query(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (error) {
    await tx.query(`ROLLBACK TO SAVEPOINT ${name}`);
    throw error;
  }
}
