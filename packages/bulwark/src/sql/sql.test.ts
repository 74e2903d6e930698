import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BULWARK_MIGRATIONS, createPostgresClient, isUniqueViolation, migrate, openDatabase } from './index.js';
import type { Migration, SqlClient } from './index.js';
import { openTestPglite, openTestPostgres, TEST_POSTGRES_URL } from '../../test/sql/test-databases.js';
import type { TestDatabase } from '../../test/sql/test-databases.js';

const backends: Array<[string, () => Promise<TestDatabase>]> = [
  ['PGlite', openTestPglite],
  ['PostgreSQL', openTestPostgres],
];

describe.each(backends)('SqlClient on %s', (_name, open) => {
  let test: TestDatabase;
  let sql: SqlClient;

  beforeAll(async () => {
    test = await open();
    sql = test.db;
    await sql.query('CREATE TABLE sql_things (id integer PRIMARY KEY, name text NOT NULL, tags text[], at timestamptz)');
  });
  afterAll(async () => {
    await test.dispose();
  });

  it('binds parameters and stores hostile text verbatim', async () => {
    const hostile = "Robert'); DROP TABLE sql_things;-- \u0000".replace('\u0000', '$1 ');
    const at = new Date(1_700_000_000_123);
    await sql.query('INSERT INTO sql_things (id, name, tags, at) VALUES ($1, $2, $3, $4)', [1, hostile, ['a', "b'c", '{"d"}'], at]);
    const { rows } = await sql.query<{ name: string; tags: string[]; at: Date }>('SELECT name, tags, at FROM sql_things WHERE id = $1', [1]);
    expect(rows).toEqual([{ name: hostile, tags: ['a', "b'c", '{"d"}'], at }]);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    await sql.transaction(async (tx) => {
      await tx.query('INSERT INTO sql_things (id, name) VALUES ($1, $2)', [10, 'committed']);
    });
    await expect(
      sql.transaction(async (tx) => {
        await tx.query('INSERT INTO sql_things (id, name) VALUES ($1, $2)', [11, 'rolled back']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rows } = await sql.query<{ id: number }>('SELECT id FROM sql_things WHERE id IN (10, 11) ORDER BY id');
    expect(rows).toEqual([{ id: 10 }]);
  });

  it('rejects, never reporting a commit, a transaction whose callback caught a failed statement', async () => {
    // PostgreSQL aborts the whole transaction at the failed statement and answers the COMMIT with a
    // ROLLBACK, without an error: the caller must not be told its work was saved.
    const swallowed = sql.transaction(async (tx) => {
      await tx.query('INSERT INTO sql_things (id, name) VALUES ($1, $2)', [30, 'lost']);
      await tx.query('INSERT INTO sql_things (id, name) VALUES ($1, $2)', [30, 'duplicate']).catch(() => undefined);
      return 'saved?';
    });
    await expect(swallowed).rejects.toThrow(/rolled back instead of committed/i);
    const { rows } = await sql.query<{ id: number }>('SELECT id FROM sql_things WHERE id = 30');
    expect(rows).toEqual([]);
  });

  it('rolls back only the inner work of a nested transaction (savepoint)', async () => {
    await sql.transaction(async (tx) => {
      await tx.query('INSERT INTO sql_things (id, name) VALUES ($1, $2)', [20, 'outer']);
      await expect(
        tx.transaction(async (inner) => {
          await inner.query('INSERT INTO sql_things (id, name) VALUES ($1, $2)', [21, 'inner']);
          await inner.query('INSERT INTO sql_things (id, name) VALUES ($1, $2)', [20, 'duplicate']);
        }),
      ).rejects.toSatisfy(isUniqueViolation);
      await tx.query('INSERT INTO sql_things (id, name) VALUES ($1, $2)', [22, 'after']);
    });
    const { rows } = await sql.query<{ id: number }>('SELECT id FROM sql_things WHERE id BETWEEN 20 AND 29 ORDER BY id');
    expect(rows).toEqual([{ id: 20 }, { id: 22 }]);
  });

  it('refuses a transaction client used after its transaction ended', async () => {
    let escaped: SqlClient | undefined;
    await sql.transaction(async (tx) => {
      escaped = tx;
    });
    await expect(escaped!.query('SELECT 1')).rejects.toThrow(/already ended/);
    await expect(escaped!.close()).rejects.toThrow(/cannot be closed/);
  });

  it('has applied every Bulwark migration exactly once, and a second run applies nothing', async () => {
    const again = await migrate(sql);
    expect(again).toEqual({ applied: [], version: BULWARK_MIGRATIONS.at(-1)!.version });
    const { rows } = await sql.query<{ version: number }>('SELECT version FROM bulwark_migrations ORDER BY version');
    expect(rows.map((row) => row.version)).toEqual(BULWARK_MIGRATIONS.map((m) => m.version));
  });

  it('refuses a migration edited after it was applied', async () => {
    const edited: Migration[] = BULWARK_MIGRATIONS.map((m, i) => (i === 0 ? { ...m, statements: [...m.statements, 'SELECT 1'] } : m));
    await expect(migrate(sql, { migrations: edited })).rejects.toThrow(/migration 1 \(api keys\) was changed/);
  });

  it('leaves the schema at the last complete version when a migration fails', async () => {
    const migrations: Migration[] = [
      { version: 1, name: 'good', statements: ['CREATE TABLE m_good (id integer)'] },
      { version: 2, name: 'bad', statements: ['CREATE TABLE m_half (id integer)', 'SELECT * FROM m_missing'] },
    ];
    await expect(migrate(sql, { migrations, table: 'sql_failing_migrations' })).rejects.toThrow(/m_missing/);
    const { rows } = await sql.query<{ version: number }>('SELECT version FROM sql_failing_migrations');
    expect(rows).toEqual([{ version: 1 }]);
    const { rows: tables } = await sql.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'm_half' AND schemaname = current_schema()");
    expect(tables[0]?.n).toBe(0);
  });

  it('keeps separate migration sets apart by table', async () => {
    const own: Migration[] = [{ version: 1, name: 'app table', statements: ['CREATE TABLE sql_app_things (id integer)'] }];
    expect((await migrate(sql, { migrations: own, table: 'sql_app_migrations' })).applied).toEqual([1]);
    expect((await migrate(sql, { migrations: own, table: 'sql_app_migrations' })).applied).toEqual([]);
  });
});

describe('migrate', () => {
  it('applies each migration once when two PostgreSQL instances start together', async () => {
    const schema = `bw_test_${randomBytes(6).toString('hex')}`;
    const a = createPostgresClient({ url: TEST_POSTGRES_URL, schema, maxConnections: 2 });
    const b = createPostgresClient({ url: TEST_POSTGRES_URL, schema, maxConnections: 2 });
    try {
      await a.query(`CREATE SCHEMA ${schema}`);
      const [resultA, resultB] = await Promise.all([migrate(a), migrate(b)]);
      const all = [...resultA.applied, ...resultB.applied].sort((x, y) => x - y);
      expect(all).toEqual(BULWARK_MIGRATIONS.map((m) => m.version));
      const { rows } = await a.query<{ n: number }>('SELECT count(*)::int AS n FROM bulwark_migrations');
      expect(rows[0]?.n).toBe(BULWARK_MIGRATIONS.length);
    } finally {
      await a.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('rejects migrations out of order, unnamed or empty, and a bad table name', async () => {
    const sql = {} as SqlClient;
    await expect(migrate(sql, { migrations: [] })).rejects.toThrow(TypeError);
    await expect(migrate(sql, { migrations: [{ version: 2, name: 'a', statements: ['SELECT 1'] }, { version: 1, name: 'b', statements: ['SELECT 1'] }] })).rejects.toThrow(/ascending/);
    await expect(migrate(sql, { migrations: [{ version: 1, name: '', statements: ['SELECT 1'] }] })).rejects.toThrow(/needs a name/);
    await expect(migrate(sql, { migrations: [{ version: 1, name: 'a', statements: [' '] }] })).rejects.toThrow(/statement/);
    await expect(migrate(sql, { table: 'x; DROP TABLE y' })).rejects.toThrow(/table must match/);
  });
});

describe('openDatabase', () => {
  it('refuses to guess where data goes', async () => {
    await expect(openDatabase({})).rejects.toThrow(/set url \(DATABASE_URL\)/);
    await expect(openDatabase({ url: 'mysql://localhost/x' })).rejects.toThrow(/postgres:\/\//);
    await expect(openDatabase({ memory: true, schema: 'Robert"; DROP' })).rejects.toThrow(/schema must match/);
    expect(() => createPostgresClient({ url: TEST_POSTGRES_URL, maxConnections: 0 })).toThrow(/maxConnections must be an integer from 1/);
  });

  it('picks PostgreSQL for a postgres:// URL', async () => {
    const test = await openTestPostgres();
    try {
      expect(test.db.dialect).toBe('postgres');
      expect(test.db.migrations?.applied).toEqual(BULWARK_MIGRATIONS.map((m) => m.version));
    } finally {
      await test.dispose();
    }
  });

  it('opens when several instances create the same new schema at once', async () => {
    const schema = `bw_test_${randomBytes(6).toString('hex')}`;
    // CREATE SCHEMA IF NOT EXISTS is not atomic: concurrent callers can all pass the check, and the
    // losers fail on pg_namespace's unique index — one instance of a fresh deployment would not start.
    const opened = await Promise.allSettled([1, 2, 3, 4].map(() => openDatabase({ url: TEST_POSTGRES_URL, schema, maxConnections: 2 })));
    const databases = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    try {
      expect(opened.filter((result) => result.status === 'rejected')).toEqual([]);
      const applied = databases.flatMap((db) => db.migrations?.applied ?? []).sort((x, y) => x - y);
      expect(applied).toEqual(BULWARK_MIGRATIONS.map((m) => m.version));
    } finally {
      const cleanup = databases[0] ?? createPostgresClient({ url: TEST_POSTGRES_URL });
      await cleanup.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      if (databases.length === 0) await cleanup.close();
      await Promise.all(databases.map((db) => db.close()));
    }
  });

  it('keeps embedded data in the data directory across restarts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'bulwark-sql-'));
    try {
      const first = await openDatabase({ dataDir });
      expect(first.dialect).toBe('pglite');
      await first.query(`INSERT INTO bulwark_audit_head (chain, last_id, last_hash) VALUES ($1, 7, 'x')`, ['restart-check']);
      await first.close();
      await expect(first.query('SELECT 1')).rejects.toThrow(/closed/);

      const second = await openDatabase({ dataDir });
      expect(second.migrations?.applied).toEqual([]);
      const { rows } = await second.query<{ last_id: number | string }>('SELECT last_id FROM bulwark_audit_head WHERE chain = $1', ['restart-check']);
      expect(Number(rows[0]?.last_id)).toBe(7);
      await second.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
