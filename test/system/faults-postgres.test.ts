import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dispatcher } from 'undici';
import { adminClient, type AdminClient } from './support/admin.js';
import { newMasterKey, scratchDir, toYaml } from './support/config.js';
import { countRows, createKeyWithCli, createTestDatabase, postgresTarget, type TestDatabase } from './support/database.js';
import { recordFigures } from './support/figures.js';
import { crashEvidence, startGatewayProcess, type GatewayProcess } from './support/gateway-process.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { createClient, hit, steadyLoad, Tally, type Outcome } from './support/traffic.js';
import { startSystemUpstream, type SystemUpstream } from './support/upstream.js';

/**
 * PostgreSQL (API keys, audit log) lost under load, through a TCP proxy in front of the machine's
 * PostgreSQL — the server itself is never stopped:
 *
 * - stopped: connections reset and refused, as when the server is down;
 * - partitioned: connections stay open and nothing comes back, as when packets are dropped (the
 *   bytes are delivered, late, when the partition heals — TCP retransmits them);
 * - reset in the middle of an admin change (a transaction holding its connection).
 *
 * Each outage lasts longer than the API key cache's 5 s TTL, so it shows both what the cache covers
 * and what happens once it no longer does. Expected: the data plane keeps serving keys it knows,
 * refuses keys it cannot check with 503 (fail closed), the admin API answers 503
 * DEPENDENCY_UNAVAILABLE with Retry-After within a bounded time, readiness fails and recovers, and
 * the audit log holds exactly the changes that were made.
 */

const OUTAGE_MS = 8000;
/** The verifier's default cache TTL (bulwark/auth key-cache.ts). */
const KEY_CACHE_TTL_MS = 5000;
/** bulwark/sql's deadlines (createPostgresClient): pg's connection timeout, and its query deadline (queryTimeoutMs). */
const DB_DEADLINE_MS = 5000;
/** How long a request waits for the refresh of a key past its cache TTL before it is served stale (bulwark/auth refreshTimeoutMs). */
const KEY_REFRESH_TIMEOUT_MS = 1000;
/** How long a failed admin change waits for its failure audit entry (bulwark/auth api-key-admin.ts). */
const FAILURE_AUDIT_WAIT_MS = 1000;
/** Scheduling slack on two shared cores. */
const SLACK_MS = 1000;
/** An admin change: its key's refresh, one database deadline, the failure audit entry. */
const ADMIN_BOUND_MS = KEY_REFRESH_TIMEOUT_MS + DB_DEADLINE_MS + FAILURE_AUDIT_WAIT_MS + SLACK_MS;
/** A data-plane request: one database deadline (a key with no cache entry), or the refresh wait. */
const DATA_PLANE_BOUND_MS = DB_DEADLINE_MS + SLACK_MS;
const SHUTDOWN_TIMEOUT_MS = 3000;
/** The gateway's deadline for closing one service (apps/gateway/src/lifecycle/services.ts). */
const SERVICE_CLOSE_DEADLINE_MS = 3000;

let dir: Awaited<ReturnType<typeof scratchDir>>;
let database: TestDatabase;
let upstream: SystemUpstream;
let proxy: TcpProxy;
let resetProxy: TcpProxy;
let resetGateway: GatewayProcess | undefined;
let resetAdmin: AdminClient;
let client: Dispatcher;
let gateway: GatewayProcess;
let admin: AdminClient;
let successfulChanges = 0;
const masterKey = newMasterKey();

beforeAll(async () => {
  dir = await scratchDir('pg-faults');
  database = await createTestDatabase('pgfaults');
  upstream = await startSystemUpstream();
  proxy = await startTcpProxy(postgresTarget());
  resetProxy = await startTcpProxy(postgresTarget());
  client = createClient({ connections: 64, timeoutMs: 30_000 });
  const bootstrap = await createKeyWithCli(database, masterKey, { name: 'operator', tenant: 'ops', scopes: ['admin'] });
  successfulChanges += 1;
  const configYaml = toYaml({
    server: { host: '127.0.0.1', port: 0, shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS },
    upstreams: { api: { url: '${UPSTREAM_URL}' } },
    logging: { accessLog: false },
    routes: [{ name: 'api', match: { prefix: '/api' }, upstream: 'api', auth: { type: 'apiKey', scopes: ['pg'] }, rateLimits: [{ name: 'per-key', limit: 1_000_000, window: '1h', by: 'apiKey' }] }],
  });
  // Two instances on the same schema, each through its own proxy: the second one is for the reset test.
  [gateway, resetGateway] = await Promise.all([
    startGatewayProcess({ name: 'pg', dir: dir.path, masterKey, env: { DATABASE_URL: database.url(proxy.port), UPSTREAM_URL: upstream.url }, configYaml }),
    startGatewayProcess({ name: 'pg-reset', dir: dir.path, masterKey, env: { DATABASE_URL: database.url(resetProxy.port), UPSTREAM_URL: upstream.url }, configYaml }),
  ]);
  admin = adminClient(client, gateway.url, bootstrap.key);
  resetAdmin = adminClient(client, resetGateway.url, bootstrap.key);
}, 120_000);

/** A new key, used once so that its cache entry is fresh (the TTL runs from the lookup, not from the last use). */
async function warmKey(name: string): Promise<{ readonly key: string; readonly cachedAt: number }> {
  const created = await admin.createKey({ name, tenant: 'acme', scopes: ['pg'] });
  if (created.created === undefined) throw new Error(`could not create a key: ${created.status} ${created.text}`);
  successfulChanges += 1;
  const cachedAt = performance.now();
  expect((await hit(client, { url: `${gateway.url}/api/warm`, headers: { 'x-api-key': created.created.key } })).status).toBe(200);
  return { key: created.created.key, cachedAt };
}

afterAll(async () => {
  await gateway?.kill();
  await resetGateway?.kill();
  await proxy?.close();
  await resetProxy?.close();
  await upstream?.close();
  await client?.close();
  await database?.drop();
  await dir?.remove();
});

interface OutageRecord {
  /** When the known key's cache entry was stored. */
  readonly cachedAt: number;
  readonly startedAt: number;
  readonly restoredAt: number;
  readonly known: Tally;
  readonly unknown: Outcome[];
  readonly admin: Outcome[];
  readonly readyDuring: Outcome;
  readonly adminRecoveredMs: number;
  readonly readyRecoveredMs: number;
}

/**
 * One outage of `OUTAGE_MS` under steady load with a known (cached) key; meanwhile a key the
 * instance never saw and admin changes, once a second. Then the link comes back.
 */
async function outage(kind: 'stopped' | 'partitioned'): Promise<OutageRecord> {
  // A key fresh in the cache, one never used, and live connections in the pool, as on a busy instance.
  const unknownKey = await admin.createKey({ name: `never-used-${kind}`, tenant: 'acme', scopes: ['pg'] });
  expect(unknownKey.status).toBe(201);
  successfulChanges += 1;
  const { key: knownKey, cachedAt } = await warmKey(`known-${kind}`);
  // Several idle connections in the pool (a busy instance has them): concurrent admin reads.
  await Promise.all(Array.from({ length: 6 }, () => admin.verifyAudit()));

  const known = new Tally();
  const controller = new AbortController();
  const load = steadyLoad({ dispatcher: client, tally: known, ratePerSecond: 20, signal: controller.signal, next: () => ({ url: `${gateway.url}/api/load`, headers: { 'x-api-key': knownKey }, tag: 'known' }) });

  const startedAt = performance.now();
  if (kind === 'stopped') await proxy.refuse();
  else proxy.partition();
  const unknown: Promise<Outcome>[] = [];
  const adminCalls: Promise<Outcome>[] = [];
  for (let second = 0; second * 1000 < OUTAGE_MS; second += 1) {
    unknown.push(hit(client, { url: `${gateway.url}/api/unknown`, headers: { 'x-api-key': unknownKey.created!.key }, tag: 'unknown' }));
    adminCalls.push(admin.createKey({ name: `during-${kind}-${second}`, tenant: 'acme', scopes: ['pg'] }));
    // The outage's length is the fault itself: one probe of each kind per second.
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const readyDuring = await hit(client, { url: `${gateway.url}/health/ready` });
  await proxy.restore();
  const restoredAt = performance.now();
  let adminRecoveredMs = -1;
  while (performance.now() - restoredAt < 60_000) {
    const attempt = await admin.createKey({ name: `after-${kind}`, tenant: 'acme', scopes: ['pg'] });
    if (attempt.status === 201) {
      successfulChanges += 1;
      adminRecoveredMs = Math.round(performance.now() - restoredAt);
      break;
    }
    // Probe pacing: recovery is measured to within 100 ms.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await gateway.waitReady(200, 30_000);
  const readyRecoveredMs = Math.round(performance.now() - restoredAt);
  controller.abort();
  await load;
  const record = { cachedAt, startedAt, restoredAt, known, unknown: await Promise.all(unknown), admin: await Promise.all(adminCalls), readyDuring, adminRecoveredMs, readyRecoveredMs };
  successfulChanges += record.admin.filter((outcome) => outcome.status === 201).length;
  recordFigures(`postgres ${kind}`, {
    outageMs: OUTAGE_MS,
    knownKey: known.summary(),
    knownKeyWithinCacheTtl: known.summary('known', startedAt, cachedAt + KEY_CACHE_TTL_MS),
    knownKeyAfterCacheTtl: known.summary('known', cachedAt + KEY_CACHE_TTL_MS, restoredAt),
    knownKeyAfterRestore: known.summary('known', restoredAt),
    unknownKey: Tally.summarise(record.unknown),
    admin: Tally.summarise(record.admin),
    adminEach: record.admin.map((outcome) => `${outcome.status} ${Math.round(outcome.startedAt - startedAt)}+${Math.round(outcome.ms)}`),
    unknownEach: record.unknown.map((outcome) => `${outcome.status} ${Math.round(outcome.startedAt - startedAt)}+${Math.round(outcome.ms)}`),
    readyDuring: readyDuring.status,
    adminRecoveredMs,
    readyRecoveredMs,
  });
  return record;
}

describe.each(['stopped', 'partitioned'] as const)('PostgreSQL %s for 8 s under load', (kind) => {
  let record: OutageRecord;
  beforeAll(async () => {
    record = await outage(kind);
  }, 120_000);
  /**
   * A request still waiting for the database when the link came back gets the database's answer
   * (the partition's held bytes arrive, late): only those may succeed.
   */
  const waitingAtRestore = (outcome: Outcome): boolean => kind === 'partitioned' && outcome.startedAt + outcome.ms >= record.restoredAt;

  // Regression: on a partition a query on an established pool connection waited until the
  // partition healed (statement_timeout is enforced by the server, which never sees the query);
  // bulwark/sql now sets pg's client-side query_timeout (queryTimeoutMs, 5 s by default).
  it('answers the admin API with 503 DEPENDENCY_UNAVAILABLE and Retry-After within its deadlines, changing nothing', () => {
    expect(record.admin.filter((outcome) => !waitingAtRestore(outcome)).length).toBeGreaterThan(0);
    for (const outcome of record.admin) {
      expect(outcome.ms, `${outcome.status} ${outcome.text}`).toBeLessThan(ADMIN_BOUND_MS);
      if (waitingAtRestore(outcome) && outcome.status === 201) continue;
      expect(outcome.status, `${outcome.error ?? ''} ${outcome.text}`).toBe(503);
      expect(outcome.code).toBe('DEPENDENCY_UNAVAILABLE');
      expect(outcome.headers['retry-after']).toMatch(/^\d+$/);
    }
  });

  it('fails readiness during the outage and is ready again after it', () => {
    expect(record.readyDuring.status).toBe(503);
    expect(record.readyDuring.text).toContain('"database":"down"');
    expect(record.readyRecoveredMs).toBeGreaterThanOrEqual(0);
  });

  it('refuses a key it cannot check with 503, promptly, never 500', () => {
    expect(record.unknown.filter((outcome) => !waitingAtRestore(outcome)).length).toBeGreaterThan(0);
    for (const outcome of record.unknown) {
      expect(outcome.ms, `${outcome.status} ${outcome.text}`).toBeLessThan(DATA_PLANE_BOUND_MS);
      if (waitingAtRestore(outcome) && outcome.status === 200) continue;
      expect(outcome.status, `${outcome.error ?? ''} ${outcome.text}`).toBe(503);
      expect(outcome.code).toBe('DEPENDENCY_UNAVAILABLE');
    }
  });

  it('keeps serving a cached key for the cache TTL', () => {
    const within = record.known.select('known', record.cachedAt, record.cachedAt + KEY_CACHE_TTL_MS - 200);
    expect(within.length).toBeGreaterThan(0);
    expect(Tally.summarise(within).statuses).toEqual({ '200': within.length });
  });

  // Regression: the key cache had no stale-if-error: once an entry's 5 s TTL passed, every request
  // with that key went to the database and failed (503) — a database outage became a data-plane
  // outage after 5 s. The verifier now serves stale entries while the store fails (staleIfErrorMs).
  it('keeps serving a cached key for the whole outage (stale entries while the database is down)', () => {
    const during = record.known.select('known', record.startedAt, record.restoredAt);
    expect(Tally.summarise(during).statuses).toEqual({ '200': during.length });
  });

  it('answers every data-plane request of a cached key within the refresh wait, with no 5xx', () => {
    for (const outcome of record.known.outcomes) {
      expect(outcome.status, `${outcome.error ?? ''} ${outcome.text}`).toBe(200);
      expect(outcome.ms).toBeLessThan(KEY_REFRESH_TIMEOUT_MS + SLACK_MS);
    }
  });

  it('recovers the admin API and loses nothing from the audit log', async () => {
    expect(record.adminRecoveredMs).toBeGreaterThanOrEqual(0);
    const verified = await admin.verifyAudit();
    expect(verified.verified?.ok, verified.text).toBe(true);
    // Every change that answered 201, and no other, is in the chain. (A change refused with 503 may
    // also leave a `failure` entry, written once the database answered again.)
    expect(await countRows(database, "SELECT count(*) AS n FROM bulwark_audit_log WHERE outcome = 'success'")).toBe(successfulChanges);
    expect(await countRows(database, 'SELECT count(*) AS n FROM bulwark_api_keys')).toBe(successfulChanges);
    expect(crashEvidence(gateway)).toEqual([]);
  });
});

describe('stopping while PostgreSQL is partitioned', () => {
  // Each service that cannot close gets its own deadline (apps/gateway/src/lifecycle/services.ts),
  // so the exit comes after the drain deadline plus those deadlines — bounded, not instant.
  it('drains and exits within a bounded time, whatever the database does', async () => {
    // A use of a key leaves a pending last-used write, which the shutdown flushes.
    await warmKey('last');
    // Idle pooled connections, which the shutdown's last-used flush will pick up.
    await Promise.all(Array.from({ length: 6 }, () => admin.verifyAudit()));
    proxy.partition();
    const stoppingAt = performance.now();
    // SIGKILL follows if it has not exited 15 s after its drain deadline.
    const exit = await gateway.stop(SHUTDOWN_TIMEOUT_MS + 15_000);
    const tookMs = Math.round(performance.now() - stoppingAt);
    await proxy.restore();
    recordFigures('postgres partitioned: SIGTERM', { tookMs, exit, lastLogLines: gateway.lines.slice(-4).map((line) => `${line.msg}${typeof line['err'] === 'object' && line['err'] !== null ? `: ${String((line['err'] as { message?: unknown }).message)}` : ''}`) });
    expect(exit).toEqual({ code: 0, signal: null });
    // The two services on the database (last-used writes, the pool) may each use their deadline.
    expect(tookMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 2 * SERVICE_CLOSE_DEADLINE_MS + 2000);
  }, 30_000);
});

describe('a PostgreSQL connection reset in the middle of an admin change', () => {
  // Regression: transaction() checked a client out with pool.connect() and attached no 'error'
  // listener (pg-pool removes its idle listener on checkout), so a connection that died while a
  // transaction held it emitted an unhandled 'error' and the gateway process exited.
  it('keeps the process up and answers the change with 503', async () => {
    const victim = resetGateway!;
    // Pooled connections and a cached admin key, as on a busy instance.
    await Promise.all(Array.from({ length: 4 }, () => resetAdmin.verifyAudit()));
    resetProxy.partition();
    const begun = resetProxy.nextHeld((chunk) => chunk.includes('BEGIN'));
    const change = resetAdmin.createKey({ name: 'reset-mid-transaction', tenant: 'acme', scopes: ['pg'] });
    await begun;
    // The transaction holds its connection, waiting on BEGIN: now the connection is reset.
    await resetProxy.refuse();
    const outcome = await change;
    await resetProxy.restore();
    const live = await hit(client, { url: `${victim.url}/health/live` });
    recordFigures('postgres reset mid-transaction', { change: outcome.status === 0 ? outcome.error : outcome.status, processAlive: victim.alive(), stderr: victim.stderr().split('\n').slice(0, 6).join(' | ') });
    expect(outcome.status).toBe(503);
    expect(live.status).toBe(200);
    expect(crashEvidence(victim)).toEqual([]);
  }, 30_000);
});
