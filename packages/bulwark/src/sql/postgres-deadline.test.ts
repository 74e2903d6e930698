import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../../../../test/system/support/tcp-proxy.js';
import { TEST_POSTGRES_URL } from '../../test/sql/test-databases.js';
import { createPostgresClient, PostgresQueryTimeoutError, sqlState } from './index.js';
import type { SqlClient } from './index.js';

/**
 * The client-side query deadline, against the machine's PostgreSQL behind a TCP proxy that can
 * partition the link: connections stay open and silent, and nothing reaches the server — so its
 * `statement_timeout` can never fire. The bytes held by the partition are delivered when it heals,
 * late, as TCP would.
 */

const target = new URL(TEST_POSTGRES_URL);

/** The test database's URL, through the proxy. */
function throughProxy(proxy: TcpProxy): string {
  const url = new URL(TEST_POSTGRES_URL);
  url.host = `127.0.0.1:${proxy.port}`;
  return url.toString();
}

describe('createPostgresClient deadlines', () => {
  let proxy: TcpProxy;
  let sql: SqlClient | undefined;
  /** Client bytes the partition held (each message of the protocol starts with its type byte). */
  let held: Buffer[];

  beforeEach(async () => {
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    held = [];
  });
  afterEach(async () => {
    await proxy.restore();
    await sql?.close();
    sql = undefined;
    await proxy.close();
  });

  /** Partitions the link and records what the client sends into it. */
  function partition(): void {
    proxy.partition();
    const record = (): void => {
      void proxy.nextHeld((chunk) => {
        held.push(chunk);
        return true;
      }).then(record);
    };
    record();
  }

  it('rejects a query the server never sees once queryTimeoutMs passes, and never reuses its connection', async () => {
    sql = createPostgresClient({ url: throughProxy(proxy), maxConnections: 1, statementTimeoutMs: 100, queryTimeoutMs: 300 });
    // The pool's only connection is established before the partition.
    expect((await sql.query<{ v: string }>("SELECT 'before' AS v")).rows).toEqual([{ v: 'before' }]);
    partition();
    const late = sql.query("SELECT 'late' AS v");
    await expect(late).rejects.toThrow(PostgresQueryTimeoutError);
    await expect(late).rejects.toThrow(/did not answer within 300 ms/);
    expect(held.some((chunk) => chunk.includes('late'))).toBe(true);
    // The partition heals and delivers the late query: its answer must not reach the next caller.
    await proxy.restore();
    expect((await sql.query<{ v: string }>("SELECT 'after' AS v")).rows).toEqual([{ v: 'after' }]);
  });

  it('gives a transaction with its own timeoutMs that deadline instead of the client\'s (migrations behind their lock)', async () => {
    sql = createPostgresClient({ url: throughProxy(proxy), maxConnections: 1, statementTimeoutMs: 100, queryTimeoutMs: 300 });
    const slow = (tx: SqlClient): Promise<unknown> => tx.query('SELECT pg_sleep(0.4)');
    await expect(sql.transaction(slow)).rejects.toSatisfy((error: unknown) => sqlState(error) === '57014');
    await expect(sql.transaction(slow, { timeoutMs: 5000 })).resolves.toBeDefined();
    // The longer deadline is the transaction's only (SET LOCAL): the next one has the client's again.
    await expect(sql.transaction(slow)).rejects.toSatisfy((error: unknown) => sqlState(error) === '57014');
  });

  it('gives up a partitioned transaction at its first deadline, without waiting on a ROLLBACK', async () => {
    sql = createPostgresClient({ url: throughProxy(proxy), maxConnections: 1, statementTimeoutMs: 100, queryTimeoutMs: 300 });
    await sql.query('SELECT 1');
    partition();
    const begun = proxy.nextHeld((chunk) => chunk.includes('BEGIN'));
    // pg's deadline is a setTimeout: with it faked, one deadline passes exactly when we say so.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let ran = false;
    let outcome: unknown;
    try {
      const change = sql
        .transaction(async () => {
          ran = true;
        })
        .catch((error: unknown) => (outcome = error));
      await begun;
      await vi.advanceTimersByTimeAsync(300);
      // Settled after ONE deadline: a ROLLBACK queued behind the unanswered BEGIN would have waited
      // for a second one (and held the pool's only connection meanwhile).
      // (setImmediate is not faked: this lets the rejection's callbacks run, and no timer.)
      for (let turn = 0; turn < 3; turn += 1) await new Promise((resolve) => setImmediate(resolve));
      expect(outcome).toBeInstanceOf(PostgresQueryTimeoutError);
      vi.useRealTimers();
      await change;
    } finally {
      vi.useRealTimers();
    }
    expect(ran).toBe(false);
    expect(Buffer.concat(held).toString('latin1')).not.toContain('ROLLBACK');
    await proxy.restore();
    // The connection was destroyed (which ends the transaction on the server); the pool opens a new one.
    await sql.transaction(async (tx) => {
      expect((await tx.query<{ n: number }>('SELECT 2 AS n')).rows).toEqual([{ n: 2 }]);
    });
  });

  it('lets a server that can answer cancel a slow statement first, with its own error', async () => {
    sql = createPostgresClient({ url: throughProxy(proxy), maxConnections: 1, statementTimeoutMs: 100, queryTimeoutMs: 5000 });
    await expect(sql.query('SELECT pg_sleep(2)')).rejects.toSatisfy((error) => sqlState(error) === '57014' && !(error instanceof PostgresQueryTimeoutError));
    expect((await sql.query<{ n: number }>('SELECT 3 AS n')).rows).toEqual([{ n: 3 }]);
  });

  it('validates the deadlines', () => {
    expect(() => createPostgresClient({ url: TEST_POSTGRES_URL, queryTimeoutMs: -1 })).toThrow(/queryTimeoutMs must be an integer from 0/);
    expect(() => createPostgresClient({ url: TEST_POSTGRES_URL, queryTimeoutMs: 1.5 })).toThrow(/queryTimeoutMs/);
    expect(() => createPostgresClient({ url: TEST_POSTGRES_URL, statementTimeoutMs: Number.NaN })).toThrow(/statementTimeoutMs/);
  });

  it('refuses a transaction deadline that is not a positive integer, before taking a connection', async () => {
    sql = createPostgresClient({ url: throughProxy(proxy), maxConnections: 1 });
    for (const timeoutMs of [0, -1, 1.5, Number.NaN]) {
      await expect(sql.transaction(() => Promise.resolve(), { timeoutMs })).rejects.toThrow(/^transaction: timeoutMs must be an integer from 1/);
    }
    expect((await sql.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
  });
});
