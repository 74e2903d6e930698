/**
 * API key verification: how fast is a key checked on the hot path (cache hit), and what does a
 * cache miss cost against each database?
 *
 *   npm run bench -- api-keys
 *
 * 1. Cache hit: `await verifier.verify(key)` for a key already cached (checksum, SHA-256 cache key,
 *    LRU touch, expiry check), against the hand-rolled middleware a team would otherwise write:
 *    HMAC-SHA256 of the presented key on every request, then a `Map` lookup. Per-call cost is
 *    process CPU time over batches of awaited calls, best of interleaved rounds (the machine is
 *    shared). Target: ≥ 500 000 verifications/s on one core.
 * 2. Cache miss: the key is dropped from the cache before every call, so each verification does
 *    the HMAC and one `SELECT … WHERE hash = $1` — on embedded PGlite (in memory) and on the
 *    machine's PostgreSQL (127.0.0.1:5432, database `test`, a scratch schema), with 1000 keys
 *    stored. Wall-clock latency of sequential calls, p50 and p99, beside the same query sent
 *    directly through the driver.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createApiKeyVerifier, createMemoryKeyStore, createSqlKeyStore, generateApiKey, hashApiKey, parseApiKey } from 'bulwark/auth';
import type { KeyStore } from 'bulwark/auth';
import { createMetricsRegistry } from 'bulwark/observability';
import { openDatabase } from 'bulwark/sql';
import type { SqlClient } from 'bulwark/sql';
import { machineLine, measureCpuPerCall, table, versionOf } from './support/report.js';
import type { Row } from './support/report.js';

/** PGlite's package.json is not exported, so `versionOf` cannot read it: find it beside its entry file. */
function pgliteVersion(): string {
  try {
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    return (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const BATCH = 1000;
const ROUNDS = 5;
const TARGET_CPU_MS = 150;
const MISS_SAMPLES = 2000;
const STORED_KEYS = 1000;
const POSTGRES_URL = process.env.BULWARK_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Per-call CPU cost of each task (one task call = {@link BATCH} awaited calls), best of {@link ROUNDS} interleaved rounds. */
function perCall(tasks: Record<string, () => Promise<unknown>>): Promise<Row[]> {
  return measureCpuPerCall(tasks, { batch: BATCH, rounds: ROUNDS, targetCpuMs: TARGET_CPU_MS, minCalls: 20 });
}

const batch = (fn: () => Promise<unknown>) => async (): Promise<void> => {
  for (let i = 0; i < BATCH; i += 1) await fn();
};

// --- 1. cache hit ---------------------------------------------------------------------------
const pepper = randomBytes(32);
const memoryStore = createMemoryKeyStore({ pepper });
const { key, record } = await memoryStore.create({ name: 'bench', tenant: 'acme', scopes: ['read'] });
const verifier = createApiKeyVerifier({ store: memoryStore, pepper, registry: createMetricsRegistry({ defaultMetrics: false }) });
if (!(await verifier.verify(key)).ok) throw new Error('the benchmark key does not verify');

const handRolled = new Map([[hashApiKey(pepper, key), { id: record.id, tenant: 'acme', scopes: ['read'] }]]);
const handRolledVerify = async (presented: string) => handRolled.get(createHmac('sha256', pepper).update(presented).digest('hex'));
const wellFormed = generateApiKey();
const garbage = wellFormed.slice(0, -1) + (wellFormed.endsWith('0') ? '1' : '0'); // checksum no longer matches

const hitRows = await perCall({
  'hand-rolled: HMAC + Map per request': batch(() => handRolledVerify(key)),
  'bulwark verify (cache hit)': batch(() => verifier.verify(key)),
  'bulwark verify (bad checksum, no lookup)': batch(() => verifier.verify(garbage)),
  'parseApiKey alone': batch(async () => parseApiKey(key)),
});

// --- 2. cache miss --------------------------------------------------------------------------
interface Latency {
  readonly name: string;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly opsPerSecond: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function latency(name: string, fn: () => Promise<unknown>): Promise<Latency> {
  for (let i = 0; i < 200; i += 1) await fn();
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < MISS_SAMPLES; i += 1) {
    const t0 = performance.now();
    await fn();
    samples.push((performance.now() - t0) * 1000);
  }
  const elapsedS = (performance.now() - started) / 1000;
  samples.sort((a, b) => a - b);
  return { name, p50Us: percentile(samples, 50), p99Us: percentile(samples, 99), opsPerSecond: MISS_SAMPLES / elapsedS };
}

async function missLatencies(label: string, sql: SqlClient): Promise<Latency[]> {
  const store: KeyStore = createSqlKeyStore({ sql, pepper });
  const keys: string[] = [];
  for (let i = 0; i < STORED_KEYS; i += 1) keys.push((await store.create({ name: `k${i}`, tenant: `t${i % 10}`, scopes: ['read'] })).key);
  const missVerifier = createApiKeyVerifier({ store, pepper, registry: createMetricsRegistry({ defaultMetrics: false }) });
  let i = 0;
  const next = (): string => keys[i++ % keys.length] ?? '';
  const idOf = new Map<string, string>();
  for (const k of keys) {
    const result = await missVerifier.verify(k);
    if (result.ok) idOf.set(k, result.key.id);
  }
  const hashes = keys.map((k) => hashApiKey(pepper, k));
  let j = 0;
  return [
    await latency(`${label}: driver query alone`, () => sql.query('SELECT * FROM bulwark_api_keys WHERE hash = $1', [hashes[j++ % hashes.length] ?? ''])),
    await latency(`${label}: bulwark verify (cache miss)`, async () => {
      const k = next();
      missVerifier.invalidate(idOf.get(k) ?? '');
      const result = await missVerifier.verify(k);
      if (!result.ok) throw new Error('miss path failed');
    }),
  ];
}

const pglite = await openDatabase({ memory: true });
const pgliteRows = await missLatencies('PGlite (in memory)', pglite);
await pglite.close();

const schema = `bw_bench_${randomBytes(4).toString('hex')}`;
let postgresRows: Latency[] = [];
let postgresNote = '';
try {
  const postgres = await openDatabase({ url: POSTGRES_URL, schema, maxConnections: 4 });
  try {
    postgresRows = await missLatencies('PostgreSQL 127.0.0.1', postgres);
  } finally {
    await postgres.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await postgres.close();
  }
} catch (error) {
  postgresNote = `\nPostgreSQL skipped: ${error instanceof Error ? error.message : String(error)}\n`;
}

const hit = hitRows.find((row) => row.name === 'bulwark verify (cache hit)')?.opsPerSecond ?? Number.NaN;
const missTable = [
  '| path | p50 | p99 | sequential ops/s |',
  '|---|---:|---:|---:|',
  ...[...pgliteRows, ...postgresRows].map((row) => `| ${row.name} | ${row.p50Us.toFixed(0)} µs | ${row.p99Us.toFixed(0)} µs | ${row.opsPerSecond.toFixed(0)} |`),
].join('\n');

console.log(`## API keys: verification from the cache and from the database

\`npm run bench -- api-keys\` · ${machineLine()} · pg ${versionOf('pg')} · @electric-sql/pglite ${pgliteVersion()}

### Cache hit (per core)

The key is already in the verifier's cache: checksum, SHA-256 cache key, LRU touch, expiry check,
prebuilt result. The hand-rolled peer hashes the presented key with HMAC-SHA256 on every request
and looks it up in a \`Map\` (no checksum, no expiry, no bounds). Process CPU time over batches of
${BATCH} awaited calls, best of ${ROUNDS} interleaved rounds.

${table(hitRows, 'hand-rolled: HMAC + Map per request')}

### Cache miss (database lookup)

The key is dropped from the cache before each call: HMAC-SHA256, one indexed \`SELECT\` by hash,
caching of the answer. ${STORED_KEYS} keys stored; ${MISS_SAMPLES} sequential calls after 200 warm-up
calls; wall-clock latency per call. "driver query alone" is the same \`SELECT\` (all columns) sent
through the same client without Bulwark. The machine is shared with other jobs: p99 mostly
measures their interference.
${postgresNote}
${missTable}

Verdict: ${formatRate(hit)} cached verifications/s on one core; target ≥ 500 000/s: ${hit >= 500_000 ? 'met' : 'NOT met'}.
`);

function formatRate(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
