import { afterAll, beforeAll } from 'vitest';
import type { SqlClient } from '../sql/sql-client.js';
import { openTestPglite, openTestPostgres } from '../../test/sql/test-databases.js';
import type { TestDatabase } from '../../test/sql/test-databases.js';
import { keyStoreContract } from '../../test/auth/key-store.contract.js';
import { createMemoryKeyStore } from './key-store-memory.js';
import { createSqlKeyStore } from './key-store-sql.js';

let pglite: TestDatabase;
let postgres: TestDatabase;

beforeAll(async () => {
  [pglite, postgres] = await Promise.all([openTestPglite(), openTestPostgres()]);
});
afterAll(async () => {
  await Promise.all([pglite?.dispose(), postgres?.dispose()]);
});

const rawRow = (sql: () => SqlClient) => async (id: string) => (await sql().query('SELECT * FROM bulwark_api_keys WHERE id = $1', [id])).rows[0];

keyStoreContract('memory', () => ({ create: (options) => createMemoryKeyStore(options) }));
keyStoreContract('PGlite', () => ({ create: (options) => createSqlKeyStore({ ...options, sql: pglite.db }), rawRow: rawRow(() => pglite.db) }));
keyStoreContract('PostgreSQL', () => ({ create: (options) => createSqlKeyStore({ ...options, sql: postgres.db }), rawRow: rawRow(() => postgres.db) }));
