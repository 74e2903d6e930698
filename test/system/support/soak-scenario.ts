import { generateApiKey, signRequest } from 'bulwark/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dispatcher } from 'undici';
import { adminClient, type AdminClient } from './admin.js';
import { newMasterKey, scratchDir, toYaml } from './config.js';
import { createKeyWithCli, createTestDatabase, type TestDatabase } from './database.js';
import { recordFigures } from './figures.js';
import { crashEvidence, startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { createClient, steadyLoad, Tally, type RequestSpec } from './traffic.js';
import { startSystemUpstream, type SystemUpstream } from './upstream.js';

/**
 * The soak: one gateway (in-process rate-limit store, PostgreSQL for keys and audit) under steady
 * mixed traffic for `durationMs`, with a key space that keeps growing — a new rate-limit key
 * (`x-client`) on a third of the requests, a new API key every two seconds, a stream of unknown
 * keys (each a database miss and a negative-cache entry), signed requests (each a nonce in the
 * replay store) — plus refusals of every kind (429, 401, 400).
 *
 * Sampled from /metrics every `sampleEveryMs`: heap used, resident memory, event-loop delay p99
 * (prom-client resets it at each scrape, so each sample covers its interval), the memory store's
 * entries against its configured maximum. Checked: no 5xx and no request without an answer; every
 * kind of request gets its answer; the store never holds more than its bound; at the end the heap
 * and resident memory stay within a generous bound of the warmed-up baseline and the event loop
 * never stalled beyond a bound. The bounds are generous on purpose (two shared cores); the figures
 * are recorded for docs/reliability.md.
 */
export interface SoakOptions {
  readonly durationMs: number;
  readonly ratePerSecond: number;
  readonly sampleEveryMs: number;
}

const HEAP_GROWTH_BOUND_BYTES = 64 * 1024 * 1024;
const RSS_GROWTH_BOUND_BYTES = 160 * 1024 * 1024;
const EVENT_LOOP_P99_BOUND_SECONDS = 0.5;
const HOT_LIMIT = 5;

interface SampleRow {
  readonly atS: number;
  readonly heapUsedMb: number;
  readonly rssMb: number;
  readonly eventLoopP99Ms: number;
  readonly storeEntries: number;
  readonly storeMax: number;
  readonly requests: number;
}

type Kind = 'valid' | 'growing' | 'hot' | 'unknown-key' | 'hostile' | 'signed';

/** The traffic mix, per 20 requests. */
const MIX: readonly Kind[] = ['valid', 'growing', 'valid', 'growing', 'hot', 'valid', 'growing', 'unknown-key', 'valid', 'growing', 'hostile', 'valid', 'growing', 'signed', 'valid', 'growing', 'unknown-key', 'valid', 'hostile', 'signed'];

export function defineSoakSuite(options: SoakOptions): void {
  let dir: Awaited<ReturnType<typeof scratchDir>>;
  let database: TestDatabase;
  let upstream: SystemUpstream;
  let client: Dispatcher;
  let gateway: GatewayProcess;
  let admin: AdminClient;
  const keys: string[] = [];
  let hotKey: string;
  let signer: { id: string; secret: string };
  const masterKey = newMasterKey();
  const samples: SampleRow[] = [];
  const tally = new Tally();
  let baseline: { heap: number; rss: number };
  let end: { heap: number; rss: number };
  let createdKeys = 0;
  let maxEventLoopP99 = 0;

  beforeAll(async () => {
    dir = await scratchDir('soak');
    database = await createTestDatabase('soak');
    upstream = await startSystemUpstream();
    client = createClient({ connections: 64, timeoutMs: 20_000 });
    gateway = await startGatewayProcess({
      name: 'soak',
      dir: dir.path,
      masterKey,
      env: { DATABASE_URL: database.url(), UPSTREAM_URL: upstream.url },
      configYaml: toYaml({
        server: { host: '127.0.0.1', port: 0 },
        upstreams: { api: { url: '${UPSTREAM_URL}' } },
        routes: [
          // A one-hour window: every new x-client stays in the store for the whole run.
          { name: 'api', match: { prefix: '/api' }, upstream: 'api', auth: { type: 'apiKey', scopes: ['soak'] }, rateLimits: [{ name: 'per-client', limit: 100_000, window: '1h', by: 'header', header: 'x-client' }] },
          { name: 'hot', match: { prefix: '/hot' }, upstream: 'api', auth: { type: 'apiKey', scopes: ['soak'] }, rateLimits: [{ name: 'hot-per-key', limit: HOT_LIMIT, window: '1h', by: 'apiKey' }] },
          { name: 'signed', match: { prefix: '/signed', methods: ['POST'] }, upstream: 'api', auth: { type: 'signature', scopes: ['soak'] } },
        ],
      }),
    });
    const bootstrap = await createKeyWithCli(database, masterKey, { name: 'operator', tenant: 'ops', scopes: ['admin'] });
    admin = adminClient(client, gateway.url, bootstrap.key);
    for (let index = 0; index < 4; index += 1) keys.push(await newKey());
    hotKey = await newKey();
    const created = await admin.createKey({ name: 'signer', tenant: 'acme', scopes: ['soak'], signing: { algorithm: 'hmac-sha256' } });
    signer = { id: created.created!.id, secret: created.created!.signingSecret ?? '' };
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.close();
    await client?.close();
    await database?.drop();
    await dir?.remove();
  });

  async function newKey(): Promise<string> {
    const created = await admin.createKey({ name: `soak-${createdKeys}`, tenant: `tenant-${createdKeys}`, scopes: ['soak'] });
    if (created.created === undefined) throw new Error(`could not create a key: ${created.status} ${created.text}`);
    createdKeys += 1;
    return created.created.key;
  }

  const spec = (index: number): RequestSpec => {
    const kind = MIX[index % MIX.length] ?? 'valid';
    const key = keys[index % keys.length] ?? '';
    switch (kind) {
      case 'valid':
        return { url: `${gateway.url}/api/items/${index % 100}`, headers: { 'x-api-key': key, 'x-client': `steady-${index % 20}` }, tag: kind };
      case 'growing':
        return { url: `${gateway.url}/api/items`, headers: { 'x-api-key': key, 'x-client': `client-${index}` }, tag: kind };
      case 'hot':
        return { url: `${gateway.url}/hot/x`, headers: { 'x-api-key': hotKey }, tag: kind };
      case 'unknown-key':
        return { url: `${gateway.url}/api/items`, headers: { 'x-api-key': generateApiKey('test') }, tag: kind };
      case 'hostile':
        // (A URL client would normalise `%2e%2e` away; an encoded slash it keeps.)
        return Math.floor(index / MIX.length) % 2 === 0
          ? { url: `${gateway.url}/api/a%2fb`, headers: { 'x-api-key': key }, tag: kind }
          : { url: `${gateway.url}/api/items`, method: 'POST', headers: { 'x-api-key': key, 'x-client': `client-${index}`, 'content-type': 'application/json' }, body: '{"a":{"__proto__":{"polluted":true}}}', tag: kind };
      case 'signed': {
        const body = JSON.stringify({ n: index });
        const url = `${gateway.url}/signed/event`;
        const headers = signRequest({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body }, { keyId: signer.id, algorithm: 'hmac-sha256', key: signer.secret });
        return { url, method: 'POST', headers: { ...Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, String(value)])), 'content-type': 'application/json' }, body, tag: kind };
      }
    }
  };

  const sample = async (startedAt: number): Promise<SampleRow> => {
    const metrics = await gateway.metrics();
    const row: SampleRow = {
      atS: Math.round((performance.now() - startedAt) / 1000),
      heapUsedMb: round((metrics.value('nodejs_heap_size_used_bytes') ?? 0) / 2 ** 20),
      rssMb: round((metrics.value('process_resident_memory_bytes') ?? 0) / 2 ** 20),
      eventLoopP99Ms: round((metrics.value('nodejs_eventloop_lag_p99_seconds') ?? 0) * 1000),
      storeEntries: metrics.sum('ratelimit_memory_store_entries'),
      storeMax: metrics.sum('ratelimit_memory_store_max_size'),
      requests: tally.outcomes.length,
    };
    maxEventLoopP99 = Math.max(maxEventLoopP99, row.eventLoopP99Ms / 1000);
    return row;
  };

  const memory = async (): Promise<{ heap: number; rss: number }> => {
    const heap: number[] = [];
    const rss: number[] = [];
    for (let scrape = 0; scrape < 3; scrape += 1) {
      const metrics = await gateway.metrics();
      heap.push(metrics.value('nodejs_heap_size_used_bytes') ?? Number.NaN);
      rss.push(metrics.value('process_resident_memory_bytes') ?? Number.NaN);
    }
    return { heap: heap.sort((a, b) => a - b)[1] ?? Number.NaN, rss: rss.sort((a, b) => a - b)[1] ?? Number.NaN };
  };

  describe(`soak: ${Math.round(options.durationMs / 1000)} s of mixed traffic at ${options.ratePerSecond} requests/s with a growing key space`, () => {
    beforeAll(async () => {
      // Warm-up (JIT, pools, caches) before the baseline: a tenth of the run, at least 5 s.
      const warm = new AbortController();
      const warmTally = new Tally();
      const warming = steadyLoad({ dispatcher: client, tally: warmTally, ratePerSecond: options.ratePerSecond, signal: warm.signal, next: spec });
      await new Promise((resolve) => setTimeout(resolve, Math.max(5000, options.durationMs / 10)));
      warm.abort();
      await warming;
      baseline = await memory();
      // A fresh key for the limited route: the warm-up spent the previous one's quota.
      hotKey = await newKey();

      const controller = new AbortController();
      const startedAt = performance.now();
      const load = steadyLoad({ dispatcher: client, tally, ratePerSecond: options.ratePerSecond, signal: controller.signal, next: (index) => spec(index + 1_000_000) });
      // The run's own clock: samples and key creation on their schedule, for the whole duration.
      let nextSample = startedAt + options.sampleEveryMs;
      let nextKey = startedAt + 2000;
      while (performance.now() - startedAt < options.durationMs) {
        const now = performance.now();
        if (now >= nextKey) {
          keys.push(await newKey());
          nextKey += 2000;
        }
        if (now >= nextSample) {
          samples.push(await sample(startedAt));
          nextSample += options.sampleEveryMs;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(nextKey, nextSample) - performance.now())));
      }
      controller.abort();
      await load;
      samples.push(await sample(startedAt));
      end = await memory();
      const byKind = Object.fromEntries((['valid', 'growing', 'hot', 'unknown-key', 'hostile', 'signed'] as const).map((kind) => [kind, tally.summary(kind)]));
      recordFigures('soak', {
        durationS: Math.round(options.durationMs / 1000),
        ratePerSecond: options.ratePerSecond,
        all: tally.summary(),
        byKind,
        apiKeysCreated: createdKeys,
        heapUsedBytes: { baseline: baseline.heap, end: end.heap },
        rssBytes: { baseline: baseline.rss, end: end.rss },
        maxEventLoopP99Ms: round(maxEventLoopP99 * 1000),
        samples,
      });
    }, options.durationMs + 120_000);

    it('answers every request, and never with a 5xx', () => {
      const summary = tally.summary();
      expect(summary.requests).toBeGreaterThan((options.ratePerSecond * options.durationMs) / 1000 / 2);
      expect(summary.errors).toEqual({});
      expect(Object.keys(summary.statuses).filter((status) => Number(status) >= 500)).toEqual([]);
    });

    it('gives every kind of request its answer: 200, 429 past the limit, 401 for unknown keys, 400 for hostile ones', () => {
      expect(Object.keys(tally.summary('valid').statuses)).toEqual(['200']);
      // A new x-client on every request: never limited, however many there are.
      expect(Object.keys(tally.summary('growing').statuses)).toEqual(['200']);
      expect(tally.summary('signed').statuses).toEqual({ '200': tally.summary('signed').requests });
      expect(tally.summary('hot').statuses['200']).toBe(HOT_LIMIT);
      expect(tally.summary('hot').codes).toEqual({ RATE_LIMITED: tally.summary('hot').requests - HOT_LIMIT });
      expect(tally.summary('unknown-key').codes).toEqual({ API_KEY_INVALID: tally.summary('unknown-key').requests });
      expect(Object.keys(tally.summary('hostile').codes).sort()).toEqual(['FORBIDDEN_KEY', 'PATH_INVALID']);
    });

    it('holds every new rate-limit key, never more than the store is configured for', () => {
      for (const row of samples) expect(row.storeEntries).toBeLessThanOrEqual(row.storeMax);
      // Each `growing` request brought a new key, kept for the one-hour window (until the bound).
      const last = samples.at(-1);
      expect(last?.storeEntries ?? 0).toBeGreaterThanOrEqual(Math.min(tally.summary('growing').requests, last?.storeMax ?? 0));
    });

    it('keeps heap and resident memory within a generous bound of the baseline, and the event loop responsive', () => {
      expect(end.heap - baseline.heap, `heap ${baseline.heap} → ${end.heap}`).toBeLessThan(HEAP_GROWTH_BOUND_BYTES);
      expect(end.rss - baseline.rss, `rss ${baseline.rss} → ${end.rss}`).toBeLessThan(RSS_GROWTH_BOUND_BYTES);
      expect(maxEventLoopP99).toBeLessThan(EVENT_LOOP_P99_BOUND_SECONDS);
      expect(crashEvidence(gateway)).toEqual([]);
    });
  });
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
