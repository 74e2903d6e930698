/**
 * Test support (outside src/, so never built or published): databases for contract suites. PostgreSQL gets a
 * unique schema per call, dropped afterwards, so parallel test files never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../../src/sql/open-database.js';
import type { Database } from '../../src/sql/open-database.js';

/** The machine's PostgreSQL (trust auth), overridable for other set-ups. */
export const TEST_POSTGRES_URL = process.env.BULWARK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  readonly db: Database;
  readonly schema: string | undefined;
  /** Drops the schema (PostgreSQL) and closes the database. */
  dispose(): Promise<void>;
}

/** A migrated PostgreSQL database in a fresh schema `bw_test_<random>`. */
export async function openTestPostgres(): Promise<TestDatabase> {
  const schema = `bw_test_${randomBytes(6).toString('hex')}`;
  const db = await openDatabase({ url: TEST_POSTGRES_URL, schema, maxConnections: 4 });
  return {
    db,
    schema,
    async dispose() {
      try {
        await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await db.close();
      }
    },
  };
}

/** A migrated in-memory PGlite. Starting one takes a moment: share one per test file. */
export async function openTestPglite(): Promise<TestDatabase> {
  const db = await openDatabase({ memory: true });
  return { db, schema: undefined, dispose: () => db.close() };
}
