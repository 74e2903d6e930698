import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dispatcher } from 'undici';
import { adminClient, type AdminClient } from './support/admin.js';
import { newMasterKey, runPrefix, scratchDir, toYaml } from './support/config.js';
import { countRows, createKeyWithCli, createTestDatabase, type TestDatabase } from './support/database.js';
import { recordFigures } from './support/figures.js';
import { crashEvidence, startGatewayProcess, type GatewayProcess } from './support/gateway-process.js';
import { deleteKeysUnder } from './support/redis-keys.js';
import { createClient, hit, steadyLoad, Tally, type Outcome } from './support/traffic.js';
import { startSystemUpstream, type SystemUpstream } from './support/upstream.js';

/**
 * An upstream that hangs, and gateways that die or stop with requests in flight. Two gateway
 * processes share the machine's Redis (unique key prefix) and one PostgreSQL schema.
 *
 * - Hanging upstream: every request ends at the route's timeout (504), the breaker opens after its
 *   threshold (503 at once, with Retry-After), and closes again through a half-open probe once the
 *   upstream answers.
 * - SIGKILL with requests and admin changes in flight: the other instance never notices; the dead
 *   one's clients get a closed connection (never a 500); every committed key has its audit entry
 *   and the chain verifies; a key's rate-limit count survives the crash (it is in Redis); the
 *   restarted instance serves.
 * - SIGTERM with requests in flight: readiness fails at once, requests that finish within
 *   `shutdownTimeoutMs` are answered, the rest are cut at the deadline, and the process exits 0.
 */

const REDIS_URL = 'redis://127.0.0.1:6379';
const STUCK_TIMEOUT_MS = 1000;
const BREAKER_THRESHOLD = 3;
const BREAKER_RESET_MS = 2000;
const SHUTDOWN_TIMEOUT_MS = 3000;
const KEY_LIMIT = 5;

let dir: Awaited<ReturnType<typeof scratchDir>>;
let database: TestDatabase;
let api: SystemUpstream;
let stuck: SystemUpstream;
let client: Dispatcher;
const gateways = new Map<string, GatewayProcess>();
let admin: AdminClient;
let adminKey: string;
let loadKey: string;
let configYaml: string;
let env: Record<string, string>;
const masterKey = newMasterKey();
const prefix = runPrefix('kill');

function gw(name: 'a' | 'b'): GatewayProcess {
  const gateway = gateways.get(name);
  if (gateway === undefined) throw new Error(`gateway ${name} is not running`);
  return gateway;
}

beforeAll(async () => {
  dir = await scratchDir('kill');
  database = await createTestDatabase('kill');
  api = await startSystemUpstream();
  stuck = await startSystemUpstream();
  client = createClient({ connections: 64, timeoutMs: 20_000 });
  configYaml = toYaml({
    server: { host: '127.0.0.1', port: 0, shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS },
    redis: { url: '${REDIS_URL}', keyPrefix: prefix, expectedInstances: 2, timeoutMs: 1000 },
    upstreams: {
      api: { url: '${API_URL}', timeoutMs: 15_000 },
      stuck: { url: '${STUCK_URL}', timeoutMs: STUCK_TIMEOUT_MS, breaker: { failureThreshold: BREAKER_THRESHOLD, resetTimeoutMs: BREAKER_RESET_MS, halfOpenRequests: 1 } },
    },
    logging: { accessLog: false },
    routes: [
      { name: 'api', match: { prefix: '/api' }, upstream: 'api', auth: { type: 'apiKey', scopes: ['svc'] } },
      { name: 'stuck', match: { prefix: '/stuck' }, upstream: 'stuck', auth: { type: 'apiKey', scopes: ['svc'] } },
      { name: 'limited', match: { prefix: '/limited' }, upstream: 'api', auth: { type: 'apiKey', scopes: ['svc'] }, rateLimits: [{ name: 'limited-per-key', limit: KEY_LIMIT, window: '1h', by: 'apiKey', onStoreFailure: 'closed' }] },
    ],
  });
  env = { REDIS_URL, DATABASE_URL: database.url(), API_URL: api.url, STUCK_URL: stuck.url };
  const started = await Promise.allSettled((['a', 'b'] as const).map((name) => startGatewayProcess({ name, configYaml, dir: dir.path, masterKey, env })));
  for (const result of started) if (result.status === 'fulfilled') gateways.set(result.value.name, result.value);
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  adminKey = (await createKeyWithCli(database, masterKey, { name: 'operator', tenant: 'ops', scopes: ['admin'] })).key;
  admin = adminClient(client, gw('b').url, adminKey);
  const created = await admin.createKey({ name: 'load', tenant: 'acme', scopes: ['svc'] });
  if (created.created === undefined) throw new Error(`could not create the load key: ${created.status} ${created.text}`);
  loadKey = created.created.key;
}, 180_000);

afterAll(async () => {
  await Promise.all([...gateways.values()].map((gateway) => gateway.kill()));
  api?.releaseHeld();
  stuck?.releaseHeld();
  await api?.close();
  await stuck?.close();
  await client?.close();
  await database?.drop();
  await deleteKeysUnder(REDIS_URL, prefix);
  await dir?.remove();
});

const stuckBreaker = async (gateway: GatewayProcess): Promise<number | undefined> => (await gateway.metrics()).value('circuit_breaker_state', { service: 'stuck' });

describe('an upstream that hangs', () => {
  it('times every request out at the route timeout, opens the breaker (503 at once), and closes it once the upstream answers', async () => {
    const gateway = gw('a');
    const tally = new Tally();
    const controller = new AbortController();
    const load = steadyLoad({ dispatcher: client, tally, ratePerSecond: 20, signal: controller.signal, next: () => ({ url: `${gateway.url}/stuck/work`, headers: { 'x-api-key': loadKey }, tag: 'stuck' }) });
    const hungAt = performance.now();
    stuck.hang(true);
    // The breaker opens after BREAKER_THRESHOLD timeouts.
    await gateway.nextLog((line) => line.msg === 'circuit breaker opened' && line['breaker'] === 'upstream:stuck', { timeoutMs: 20_000 });
    const openedAt = performance.now();
    const stateWhileHung = await stuckBreaker(gateway);
    // Hung for three reset periods: the half-open probes keep failing.
    await new Promise((resolve) => setTimeout(resolve, 3 * BREAKER_RESET_MS));
    stuck.hang(false);
    stuck.releaseHeld();
    const healedAt = performance.now();
    let first200: Outcome | undefined;
    while (performance.now() - healedAt < 30_000) {
      const outcome = await hit(client, { url: `${gateway.url}/stuck/probe`, headers: { 'x-api-key': loadKey } });
      if (outcome.status === 200) {
        first200 = outcome;
        break;
      }
      // Probe pacing: recovery is measured to within 50 ms.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const recoveredMs = Math.round(performance.now() - healedAt);
    controller.abort();
    await load;

    const during = tally.select('stuck', hungAt, healedAt);
    const summary = Tally.summarise(during);
    recordFigures('upstream hangs', { hungForMs: Math.round(healedAt - hungAt), breakerOpenedAfterMs: Math.round(openedAt - hungAt), ...summary, recoveredAfterMs: recoveredMs, after: tally.summary('stuck', healedAt) });
    expect(stateWhileHung).toBe(2);
    expect(first200).toBeDefined();
    expect(await stuckBreaker(gateway)).toBe(0);
    expect(summary.codes['UPSTREAM_TIMEOUT'] ?? 0).toBeGreaterThanOrEqual(BREAKER_THRESHOLD);
    expect(summary.codes['UPSTREAM_UNAVAILABLE'] ?? 0).toBeGreaterThan(0);
    for (const outcome of during) {
      // A half-open probe held by the hung upstream is answered when the upstream heals.
      if (outcome.status === 200) expect(outcome.startedAt + outcome.ms).toBeGreaterThanOrEqual(healedAt);
      else expect([503, 504], outcome.text).toContain(outcome.status);
      expect(outcome.ms, outcome.text).toBeLessThan(STUCK_TIMEOUT_MS + 1000);
      if (outcome.status === 503) expect(outcome.headers['retry-after']).toMatch(/^\d+$/);
    }
    expect(crashEvidence(gateway)).toEqual([]);
  }, 60_000);
});

describe('a gateway killed (SIGKILL) with requests and admin changes in flight', () => {
  it('leaves the other instance serving, never answers 500, commits each key with its audit entry, keeps the limit count, and restarts', async () => {
    const a = gw('a');
    const b = gw('b');
    const limitedKey = await admin.createKey({ name: 'limited', tenant: 'acme', scopes: ['svc'] });
    expect(limitedKey.status).toBe(201);
    for (let sent = 0; sent < KEY_LIMIT; sent += 1) expect((await hit(client, { url: `${a.url}/limited/x`, headers: { 'x-api-key': limitedKey.created!.key } })).status).toBe(200);
    expect((await hit(client, { url: `${a.url}/limited/x`, headers: { 'x-api-key': limitedKey.created!.key } })).status).toBe(429);

    const tally = new Tally();
    const controller = new AbortController();
    const load = steadyLoad({ dispatcher: client, tally, ratePerSecond: 30, signal: controller.signal, next: () => ({ url: `${b.url}/api/steady`, headers: { 'x-api-key': loadKey }, tag: 'b' }) });

    // Requests held by the upstream, and admin changes racing the kill.
    const inFlight = Array.from({ length: 8 }, (_, index) => hit(client, { url: `${a.url}/api/hang/${index}`, headers: { 'x-api-key': loadKey }, tag: 'in-flight' }));
    await api.held(8);
    const adminA = adminClient(client, a.url, adminKey);
    const changes = Array.from({ length: 12 }, (_, index) => adminA.createKey({ name: `racing-${index}`, tenant: 'acme', scopes: ['svc'] }));
    // Killed as soon as the first change is answered: the others are somewhere between request and commit.
    await Promise.race(changes);
    const exit = await a.kill();
    gateways.delete('a');
    const inFlightOutcomes = await Promise.all(inFlight);
    const changeOutcomes = await Promise.all(changes);
    api.releaseHeld();

    // The other instance keeps the audit chain and serves.
    const verified = await admin.verifyAudit();
    const keys = await countRows(database, 'SELECT count(*) AS n FROM bulwark_api_keys');
    const creations = await countRows(database, "SELECT count(*) AS n FROM bulwark_audit_log WHERE action = 'api_key.create' AND outcome = 'success'");

    // The restarted instance serves, and the key it had limited is still limited (the count is in Redis).
    const restartedAt = performance.now();
    const restarted = await startGatewayProcess({ name: 'a', configYaml, dir: dir.path, masterKey, env });
    gateways.set('a', restarted);
    const restartMs = Math.round(performance.now() - restartedAt);
    const afterRestart = await hit(client, { url: `${restarted.url}/limited/x`, headers: { 'x-api-key': limitedKey.created!.key } });
    const served = await hit(client, { url: `${restarted.url}/api/after`, headers: { 'x-api-key': loadKey } });
    controller.abort();
    await load;

    recordFigures('gateway SIGKILL', {
      exit,
      inFlight: Tally.summarise(inFlightOutcomes),
      racingAdminChanges: Tally.summarise(changeOutcomes),
      keysInDatabase: keys,
      successfulCreateEntries: creations,
      auditChain: verified.verified,
      otherInstance: tally.summary('b'),
      restartMs,
    });
    expect(exit.signal).toBe('SIGKILL');
    for (const outcome of inFlightOutcomes) expect(outcome.status, outcome.text).toBe(0);
    for (const outcome of changeOutcomes) expect([0, 201], outcome.text).toContain(outcome.status);
    expect(verified.verified?.ok, verified.text).toBe(true);
    expect(creations).toBe(keys);
    // Every key the API reported as created is in the database (others may have committed before the kill).
    expect(keys).toBeGreaterThanOrEqual(3 + changeOutcomes.filter((outcome) => outcome.status === 201).length);
    expect(changeOutcomes.some((outcome) => outcome.status === 201)).toBe(true);
    expect(tally.summary('b').statuses).toEqual({ '200': tally.summary('b').requests });
    expect(afterRestart.status).toBe(429);
    expect(served.status).toBe(200);
    expect(crashEvidence(b)).toEqual([]);
  }, 120_000);
});

describe('a client that goes away', () => {
  // Regression: the proxy did not cancel the upstream call of a client that disconnected, so it held
  // its upstream request (and a pooled connection) until the upstream answered or the route timeout
  // (here 15 s) passed.
  it('cancels its upstream request promptly', async () => {
    const gateway = gw('b');
    const request = hit(client, { url: `${gateway.url}/api/hang/abandoned`, headers: { 'x-api-key': loadKey } });
    await api.held(1);
    const before = performance.now();
    const abandoned = api.abandoned(1).then(() => 'cancelled' as const);
    // The client goes away: its connections are closed.
    await client.destroy();
    client = createClient({ connections: 64, timeoutMs: 20_000 });
    await request;
    // Generous: the route timeout is 15 s; a prompt cancellation takes milliseconds.
    const outcome = await Promise.race([abandoned, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 3000))]);
    recordFigures('client disconnect', { upstreamRequest: outcome, afterMs: Math.round(performance.now() - before) });
    api.releaseHeld();
    expect(outcome).toBe('cancelled');
  }, 30_000);
});

describe('a gateway stopped (SIGTERM) with requests in flight', () => {
  let record: { exit: Awaited<ReturnType<GatewayProcess['stop']>>; tookMs: number; readiness: Outcome; finished: Outcome[]; cut: Outcome[]; stderr: string };
  beforeAll(async () => {
    const b = gw('b');
    const finishing = Array.from({ length: 4 }, (_, index) => hit(client, { url: `${b.url}/api/hang/finishing-${index}`, headers: { 'x-api-key': loadKey } }));
    const stuckForever = Array.from({ length: 4 }, (_, index) => hit(client, { url: `${b.url}/api/hang/forever-${index}`, headers: { 'x-api-key': loadKey } }));
    await api.held(8);
    const stoppingAt = performance.now();
    // SIGKILL follows 5 s after the drain deadline if it has not exited by then.
    const exited = b.stop(SHUTDOWN_TIMEOUT_MS + 5000);
    await b.nextLog((line) => line.msg === 'shutting down: draining in-flight requests', { seen: true });
    const readiness = await hit(client, { url: `${b.url}/health/ready` });
    api.releaseHeld((path) => path.includes('/finishing-'));
    const finished = await Promise.all(finishing);
    const cut = await Promise.all(stuckForever);
    const exit = await exited;
    gateways.delete('b');
    const tookMs = Math.round(performance.now() - stoppingAt);
    api.releaseHeld();
    record = { exit, tookMs, readiness, finished, cut, stderr: b.stderr() };
    recordFigures('gateway SIGTERM', { exit, tookMs, readinessWhileDraining: readiness.status === 0 ? `no connection (${readiness.error ?? ''})` : readiness.status, finished: Tally.summarise(finished), beyondDeadline: Tally.summarise(cut), lastLogLines: b.lines.slice(-3).map((line) => line.msg) });
  }, 60_000);

  it('leaves the load balancer at once: readiness fails (or the listener is closed)', () => {
    if (record.readiness.status === 0) expect(record.readiness.error).toMatch(/ECONNREFUSED|UND_ERR_SOCKET|ECONNRESET/);
    else expect(record.readiness.status).toBe(503);
  });

  it('answers the requests that finish within shutdownTimeoutMs and cuts the rest at the deadline (no 5xx)', () => {
    for (const outcome of record.finished) expect(outcome.status, outcome.text).toBe(200);
    // Still waiting on the upstream at the deadline: the connections are closed (no answer at all).
    for (const outcome of record.cut) {
      expect(outcome.status, outcome.text).toBe(0);
      expect(outcome.ms).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS - 100);
    }
    expect(record.stderr).toBe('');
  });

  // Regression: after the deadline cut the client connections, close() awaited the upstream pools'
  // close(), which waited for the cut requests' upstream calls — up to the route timeout.
  it('exits 0 within shutdownTimeoutMs', () => {
    expect(record.exit).toEqual({ code: 0, signal: null });
    expect(record.tookMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 5000);
  });
});
