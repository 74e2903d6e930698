/**
 * In-process rate limiting: Bulwark's bounded memory store against rate-limiter-flexible's
 * `RateLimiterMemory` and express-rate-limit's `MemoryStore`, the stores a Node team would
 * otherwise pick.
 *
 *   npm run bench -- ratelimit-memory
 *
 * 1. 10,000 keys, every decision allowed (the common path): throughput of awaited decisions.
 *    Targets: ≥ 2× rate-limiter-flexible, ≥ 1× express-rate-limit.
 * 2. 1,000,000 distinct keys (a flood of new clients): throughput, and the heap each store holds
 *    afterwards (after `global.gc()`). Targets: Bulwark's heap bounded by `maxSize` (the peers grow
 *    without bound), throughput ≥ 1.5× express-rate-limit.
 *
 * Per-call figures are process CPU time over batches of 1000 awaited calls, each task keeping its
 * best of 5 interleaved rounds: the machine is shared, and wall time would charge a task for
 * whatever else ran meanwhile. CPU time includes GC threads, so allocation is paid for.
 */
import { MemoryStore } from 'express-rate-limit';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { createMetricsRegistry } from 'bulwark/observability';
import { createMemoryStore, createRateLimiter, type RateLimitAlgorithm } from 'bulwark/ratelimit';
import { machineLine, measureCpuPerCall, table, versionOf, type Row } from './support/report.js';



const BATCH = 1000;
const ROUNDS = 5;
const TARGET_CPU_MS = 200;
const WARM_KEYS = 10_000;
const FLOOD_KEYS = 1_000_000;
const MAX_SIZE = 100_000;
/** High enough that no decision is a rejection: the allowed path is what is measured. */
const LIMIT = 50_000_000;
const WINDOW_MS = 60_000;

const registry = createMetricsRegistry({ defaultMetrics: false });
const keys = Array.from({ length: WARM_KEYS }, (_, index) => `ip:10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`);

function ours(algorithm: RateLimitAlgorithm, maxSize = MAX_SIZE): { consume: (key: string) => Promise<unknown>; size: () => number } {
  const store = createMemoryStore({ maxSize, registry });
  const limiter = createRateLimiter({ name: `bench-${algorithm}-${Math.random().toString(36).slice(2, 8)}`, algorithm, limit: LIMIT, windowMs: WINDOW_MS, store, registry });
  return { consume: (key) => limiter.consume(key), size: () => store.size };
}

function flexible(): (key: string) => Promise<unknown> {
  const limiter = new RateLimiterMemory({ points: LIMIT, duration: WINDOW_MS / 1000 });
  return (key) => limiter.consume(key);
}

function expressRateLimit(): { increment: (key: string) => Promise<unknown>; shutdown: () => void } {
  const store = new MemoryStore();
  store.init({ windowMs: WINDOW_MS } as Parameters<MemoryStore['init']>[0]);
  return { increment: (key) => store.increment(key), shutdown: () => store.shutdown() };
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

/** Best-of-rounds CPU cost per decision of each task (one task call = one batch of awaited decisions). */
function perCall(tasks: Record<string, () => Promise<void>>): Promise<Row[]> {
  return measureCpuPerCall(tasks, { batch: BATCH, rounds: ROUNDS, targetCpuMs: TARGET_CPU_MS, minCalls: 20, minInvocations: 10, callName: 'decision' });
}

/** A task that awaits one decision per key for a batch, rotating through the 10,000 keys. */
function batchOver(decide: (key: string) => Promise<unknown>): () => Promise<void> {
  let next = 0;
  return async () => {
    for (let index = 0; index < BATCH; index += 1) {
      await decide(keys[next] as string);
      next = next + 1 === WARM_KEYS ? 0 : next + 1;
    }
  };
}

// --- 1. 10,000 keys ---------------------------------------------------------------------------
const gcra = ours('gcra');
const sliding = ours('sliding-window');
const fixed = ours('fixed-window');
const flexibleWarm = flexible();
const erlWarm = expressRateLimit();
const warmRows = await perCall({
  'bulwark gcra': batchOver(gcra.consume),
  'bulwark sliding-window': batchOver(sliding.consume),
  'bulwark fixed-window': batchOver(fixed.consume),
  'rate-limiter-flexible RateLimiterMemory': batchOver(flexibleWarm),
  'express-rate-limit MemoryStore': batchOver(erlWarm.increment),
});
erlWarm.shutdown();

// --- 2. 1,000,000 distinct keys -----------------------------------------------------------------
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc (npm run bench does)');

function heapMb(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

interface FloodResult extends Row {
  readonly heapMb: number;
}

/** One pass of 1,000,000 never-seen keys through a fresh store; CPU-time throughput and retained heap. */
async function flood(name: string, create: () => { decide: (key: string) => Promise<unknown>; keep: unknown; describe?: () => string }): Promise<FloodResult> {
  const before = heapMb();
  const subject = create();
  const start = process.cpuUsage();
  for (let index = 0; index < FLOOD_KEYS; index += 1) await subject.decide(`client-${index}`);
  const ms = cpuMs(start);
  const heap = heapMb() - before;
  const note = `${((ms * 1e6) / FLOOD_KEYS).toFixed(0)} ns/decision, heap +${heap.toFixed(1)} MB${subject.describe === undefined ? '' : `, ${subject.describe()}`}`;
  // Keep the store reachable until its heap was measured.
  void subject.keep;
  return { name, opsPerSecond: (FLOOD_KEYS * 1000) / ms, heapMb: heap, note };
}

const floodRows: FloodResult[] = [];
floodRows.push(
  await flood(`bulwark gcra (maxSize ${MAX_SIZE.toLocaleString('en')})`, () => {
    const subject = ours('gcra');
    return { decide: subject.consume, keep: subject, describe: () => `${subject.size().toLocaleString('en')} keys held` };
  }),
);
floodRows.push(
  await flood(`bulwark sliding-window (maxSize ${MAX_SIZE.toLocaleString('en')})`, () => {
    const subject = ours('sliding-window');
    return { decide: subject.consume, keep: subject, describe: () => `${subject.size().toLocaleString('en')} keys held` };
  }),
);
floodRows.push(
  await flood('rate-limiter-flexible RateLimiterMemory', () => {
    const decide = flexible();
    return { decide, keep: decide };
  }),
);
floodRows.push(
  await flood('express-rate-limit MemoryStore', () => {
    const store = expressRateLimit();
    return { decide: store.increment, keep: store };
  }),
);
// A store ten times smaller holds a tenth of the heap: the bound is maxSize, not the traffic.
floodRows.push(
  await flood('bulwark gcra (maxSize 10,000)', () => {
    const subject = ours('gcra', 10_000);
    return { decide: subject.consume, keep: subject, describe: () => `${subject.size().toLocaleString('en')} keys held` };
  }),
);

const ops = (rows: readonly Row[], name: string): number => rows.find((row) => row.name === name)?.opsPerSecond ?? Number.NaN;
const vsFlexible = ops(warmRows, 'bulwark gcra') / ops(warmRows, 'rate-limiter-flexible RateLimiterMemory');
const vsErl = ops(warmRows, 'bulwark gcra') / ops(warmRows, 'express-rate-limit MemoryStore');
const ourFlood = floodRows[0] as FloodResult;
const erlFlood = floodRows.find((row) => row.name === 'express-rate-limit MemoryStore') as FloodResult;
const floodVsErl = ourFlood.opsPerSecond / erlFlood.opsPerSecond;
const smallFlood = floodRows.at(-1) as FloodResult;
const bounded = ourFlood.heapMb < erlFlood.heapMb && smallFlood.heapMb < ourFlood.heapMb;

console.log(`## Rate limiting in memory: Bulwark vs rate-limiter-flexible and express-rate-limit

\`npm run bench -- ratelimit-memory\` · ${machineLine()} · rate-limiter-flexible ${versionOf('rate-limiter-flexible')} · express-rate-limit ${versionOf('express-rate-limit')}

Awaited decisions (\`await limiter.consume(key)\`, \`await rateLimiterMemory.consume(key)\`,
\`await memoryStore.increment(key)\`), limit ${LIMIT.toLocaleString('en')} per ${WINDOW_MS / 1000} s so every decision is
an allowed one. Bulwark's limiter includes its metrics counters and validation. Figures are process
CPU time per decision, best of ${ROUNDS} interleaved rounds of batches of ${BATCH}.

### 10,000 keys

${table(warmRows, 'express-rate-limit MemoryStore')}

### 1,000,000 distinct keys (one pass, each key new)

Heap is what each store still holds after the pass, after \`global.gc()\`.

${table(floodRows, 'express-rate-limit MemoryStore')}

Verdict: 10,000 keys — Bulwark (GCRA) ${vsFlexible.toFixed(2)}× rate-limiter-flexible (target ≥ 2×: ${vsFlexible >= 2 ? 'met' : 'NOT met'}) and ${vsErl.toFixed(2)}× express-rate-limit (target ≥ 1×: ${vsErl >= 1 ? 'met' : 'NOT met'}); 1,000,000 keys — heap ${ourFlood.heapMb.toFixed(1)} MB bounded by maxSize (a 10× smaller maxSize holds ${smallFlood.heapMb.toFixed(1)} MB) against ${erlFlood.heapMb.toFixed(1)} MB for express-rate-limit and ${(floodRows[2] as FloodResult).heapMb.toFixed(1)} MB for rate-limiter-flexible (${bounded ? 'met' : 'NOT met'}), throughput ${floodVsErl.toFixed(2)}× express-rate-limit (target ≥ 1.5×: ${floodVsErl >= 1.5 ? 'met' : 'NOT met'}).
`);
process.exit(0);
