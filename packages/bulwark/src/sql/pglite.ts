import { mkdir } from 'node:fs/promises';
import type { SqlClient, SqlResult, SqlValue } from './sql-client.js';
import { transactionClient } from './transaction-client.js';
import { checkSchemaName } from './schema-name.js';

export interface PgliteClientOptions {
  /**
   * Directory of the embedded database's files (created with mode 0700 if missing). Only one
   * process may open a directory at a time. `undefined` keeps the database in memory: for tests.
   * @default undefined
   */
  readonly dataDir?: string | undefined;
  /** Schema for Bulwark's tables (created if missing, then set as `search_path`). @default undefined (`public`) */
  readonly schema?: string | undefined;
}

/**
 * Opens an embedded PostgreSQL (PGlite, WebAssembly) as a {@link SqlClient}: the same SQL and the
 * same migrations as a real server, without running one. PGlite is a single connection, so queries
 * and transactions are serialised by PGlite itself; use the `tx` client inside a transaction (the
 * outer client waits for the transaction to end).
 *
 * The PGlite module is loaded on the first call, never at import time.
 *
 * @example
 * const sql = await openPglite({ dataDir: join(process.env.BULWARK_DATA_DIR, 'pglite') });
 */
export async function openPglite(options: PgliteClientOptions = {}): Promise<SqlClient> {
  const { dataDir } = options;
  if (dataDir !== undefined && (typeof dataDir !== 'string' || dataDir.length === 0 || dataDir.includes('\0'))) {
    throw new TypeError('openPglite: dataDir must be a non-empty path');
  }
  const schema = options.schema === undefined ? undefined : checkSchemaName(options.schema, 'openPglite: schema');
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true, mode: 0o700 });

  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(dataDir ?? 'memory://');
  if (schema !== undefined) {
    // Validated above: a bare lower-case identifier, safe to splice.
    await db.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}`);
  }

  let closed = false;
  const refuseClosed = (): Promise<never> => Promise.reject(new Error('the PGlite database is closed'));

  const client: SqlClient = {
    dialect: 'pglite',
    async query<T extends object>(text: string, params: readonly SqlValue[] = []): Promise<SqlResult<T>> {
      if (closed) return refuseClosed();
      const result = await db.query<T>(text, params as unknown[]);
      return { rows: result.rows };
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      if (closed) return refuseClosed();
      return db.transaction(async (pgliteTx) => {
        let open = true;
        try {
          const tx = transactionClient(
            'pglite',
            async <R extends object>(text: string, params: readonly SqlValue[]) => ({ rows: (await pgliteTx.query<R>(text, params as unknown[])).rows }),
            () => open,
          );
          return await fn(tx);
        } finally {
          open = false;
        }
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
  return Object.freeze(client);
}
