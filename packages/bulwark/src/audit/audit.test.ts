import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createPostgresClient } from '../sql/postgres.js';
import { openTestPglite, openTestPostgres, TEST_POSTGRES_URL } from '../../test/sql/test-databases.js';
import type { TestDatabase } from '../../test/sql/test-databases.js';
import { AUDIT_GENESIS_HASH } from './audit-entry.js';
import { auditContract, testRedact } from '../../test/audit/audit.contract.js';
import type { AuditHarness } from '../../test/audit/audit.contract.js';
import { createMemoryAuditLog, createMemoryAuditStorage } from './audit-memory.js';
import type { MemoryAuditStorage } from './audit-memory.js';
import { createSqlAuditLog } from './audit-sql.js';
import { canonicalJson } from './canonical-json.js';

/** One chain key for the SQL-specific tests below, which share each database's chain. */
const chainKey = randomBytes(32);
let pglite: TestDatabase;
let postgres: TestDatabase;

beforeAll(async () => {
  [pglite, postgres] = await Promise.all([openTestPglite(), openTestPostgres()]);
});
afterAll(async () => {
  await Promise.all([pglite?.dispose(), postgres?.dispose()]);
});

function sqlHarness(db: () => TestDatabase): () => AuditHarness {
  return () => {
    const sql = db().db;
    const edit = (column: string) => async (id: number, value: string) => void (await sql.query(`UPDATE bulwark_audit_log SET ${column} = $2 WHERE id = $1`, [id, value]));
    return {
      create: (options) => createSqlAuditLog({ ...options, sql }),
      async reset() {
        await sql.query('DELETE FROM bulwark_audit_log');
        await sql.query("UPDATE bulwark_audit_head SET last_id = 0, last_hash = $1 WHERE chain = 'main'", [AUDIT_GENESIS_HASH]);
      },
      tamper: {
        setAction: edit('action'),
        setInput: edit('input'),
        setPrevHash: edit('prev_hash'),
        remove: async (id) => void (await sql.query('DELETE FROM bulwark_audit_log WHERE id = $1', [id])),
      },
    };
  };
}

let memoryStorage: MemoryAuditStorage = createMemoryAuditStorage();
const replaceRow = (id: number, change: object): void => {
  const index = memoryStorage.rows.findIndex((row) => row.id === id);
  const row = memoryStorage.rows[index];
  if (row !== undefined) memoryStorage.rows[index] = { ...row, ...change };
};

auditContract('memory', () => ({
  create: (options) => createMemoryAuditLog({ ...options, storage: memoryStorage }),
  async reset() {
    memoryStorage = createMemoryAuditStorage();
  },
  tamper: {
    setAction: async (id, action) => replaceRow(id, { action }),
    setInput: async (id, inputJson) => replaceRow(id, { inputJson }),
    setPrevHash: async (id, prevHash) => replaceRow(id, { prevHash }),
    remove: async (id) => void memoryStorage.rows.splice(memoryStorage.rows.findIndex((row) => row.id === id), 1),
  },
}));
auditContract('PGlite', sqlHarness(() => pglite));
auditContract('PostgreSQL', sqlHarness(() => postgres));

describe.each([
  ['PGlite', () => pglite],
  ['PostgreSQL', () => postgres],
])('SQL audit log transactions on %s', (_name, db) => {
  it('commits an entry with the change it records, or neither', async () => {
    const { db: sql } = db();
    await sql.query('CREATE TABLE IF NOT EXISTS audit_tx_things (id text PRIMARY KEY)');
    const audit = createSqlAuditLog({ sql, chainKey, redact: testRedact });
    const before = (await audit.head()).id;
    await expect(
      audit.withTransaction(async (tx) => {
        await tx.query('INSERT INTO audit_tx_things (id) VALUES ($1)', ['rolled-back']);
        await audit.append({ actor: 'a', action: 'thing.create', target: 'rolled-back', outcome: 'success' }, tx);
        throw new Error('the change failed after its audit entry');
      }),
    ).rejects.toThrow('the change failed');
    expect((await audit.head()).id).toBe(before);
    expect((await sql.query('SELECT id FROM audit_tx_things')).rows).toEqual([]);

    const entry = await audit.withTransaction(async (tx) => {
      await tx.query('INSERT INTO audit_tx_things (id) VALUES ($1)', ['kept']);
      return audit.append({ actor: 'a', action: 'thing.create', target: 'kept', outcome: 'success' }, tx);
    });
    expect(entry.id).toBe(before + 1); // the rolled-back append left no gap
    expect((await audit.query({ target: 'kept' })).entries).toHaveLength(1);
    expect((await audit.verify()).ok).toBe(true);
  });
});

describe.each([
  ['memory', () => createMemoryAuditLog({ chainKey, redact: testRedact })],
  ['PGlite', () => createSqlAuditLog({ sql: pglite.db, chainKey, redact: testRedact })],
])('audit query dates on %s', (_name, create) => {
  it('refuses a date outside years 1–9999 with a TypeError, not a database error', async () => {
    const audit = create();
    await expect(audit.query({ since: new Date('-010000-01-01T00:00:00Z') })).rejects.toThrow(TypeError);
    await expect(audit.query({ until: new Date('+275760-09-13T00:00:00Z') })).rejects.toThrow(TypeError);
    await expect(audit.query({ since: new Date('0001-01-01T00:00:00Z'), until: new Date('9999-12-31T23:59:59.999Z') })).resolves.toMatchObject({ entries: expect.any(Array) });
  });
});

describe('SQL audit log across instances', () => {
  it('keeps one chain when two PostgreSQL connection pools append concurrently', async () => {
    const schema = postgres.schema ?? 'public';
    const other = createPostgresClient({ url: TEST_POSTGRES_URL, schema, maxConnections: 4 });
    try {
      const a = createSqlAuditLog({ sql: postgres.db, chainKey, redact: testRedact });
      const b = createSqlAuditLog({ sql: other, chainKey, redact: testRedact });
      const start = (await a.head()).id;
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).append({ actor: `pool-${i % 2}`, action: 'load.test', outcome: 'success' })));
      expect((await b.head()).id).toBe(start + 40);
      expect(await a.verify()).toEqual({ ok: true, count: start + 40 });
    } finally {
      await other.close();
    }
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops what JSON drops', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: 'x' }, f: () => 1 })).toBe('{"a":{"c":"x","d":[3,{"z":1}]},"b":1}');
    expect(canonicalJson({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
    expect(canonicalJson(undefined)).toBeUndefined();
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });

  it('gives equal text for equal values whatever the key order', () => {
    expect(canonicalJson({ a: 1, b: [1, 2] })).toBe(canonicalJson({ b: [1, 2], a: 1 }));
  });
});
