import { withSavepoint } from './sql-client.js';
import type { SqlClient, SqlDialect, SqlResult, SqlValue } from './sql-client.js';

type Run = <T extends object>(text: string, params: readonly SqlValue[]) => Promise<SqlResult<T>>;

/**
 * The client handed to a transaction callback: queries run on the transaction's connection, nested
 * `transaction` calls become savepoints, and once the transaction has ended every call is refused —
 * a reference that escaped the callback must never run on a pooled connection someone else now owns.
 */
export function transactionClient(dialect: SqlDialect, run: Run, isOpen: () => boolean, depth = 1): SqlClient {
  const ended = (): Error => new Error('this transaction has already ended; run queries inside the transaction callback');
  const client: SqlClient = {
    dialect,
    query<T extends object>(text: string, params: readonly SqlValue[] = []) {
      if (!isOpen()) return Promise.reject(ended());
      return run<T>(text, params);
    },
    transaction<T>(fn: (tx: SqlClient) => Promise<T>) {
      if (!isOpen()) return Promise.reject(ended());
      return withSavepoint(client, depth, () => fn(transactionClient(dialect, run, isOpen, depth + 1)));
    },
    close() {
      return Promise.reject(new Error('a transaction client cannot be closed; the transaction ends when its callback settles'));
    },
  };
  return Object.freeze(client);
}
