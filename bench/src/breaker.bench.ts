/**
 * Circuit breakers: Bulwark's against cockatiel and opossum, the breakers a Node team would
 * otherwise pick, around the same resolved async function.
 *
 *   npm run bench -- breaker
 *
 * 1. Success path (closed breaker): throughput of `await breaker.execute(fn)`.
 * 2. Open breaker: throughput of rejected calls (awaited and caught).
 * 3. Heap per breaker with 100 000 keyed breakers (Bulwark's registry against a Map of opossum and
 *    of cockatiel breakers), after `global.gc()`, both as created and after one call each.
 *
 * Each task runs batches of awaited calls, timed as process CPU time over interleaved rounds (see
 * `perCall`): tinybench's wall-clock, per-iteration timing would charge a 50 ns call for its own two
 * clock reads and await, and for whatever else runs on this shared machine.
 *
 * Targets: execute ≥ 1.5× cockatiel and ≥ 5× opossum on the success path; open-state rejection
 * ≥ 10× opossum; heap per breaker reported beside opossum's.
 */
import { createRequire } from 'node:module';
import { circuitBreaker, ConsecutiveBreaker, handleAll } from 'cockatiel';
import { createMetricsRegistry } from 'bulwark/observability';
import { createBreakerRegistry, createCircuitBreaker } from 'bulwark/resilience';
import { machineLine, measureCpuPerCall, table, versionOf } from './support/report.js';
import type { Row } from './support/report.js';

/** The slice of opossum's API used here (the package ships no types). */
interface Opossum {
  fire(): Promise<unknown>;
  open(): void;
  shutdown(): void;
}
type OpossumConstructor = new (action: () => Promise<unknown>, options?: Record<string, unknown>) => Opossum;
const OpossumBreaker = createRequire(import.meta.url)('opossum') as OpossumConstructor;

const BATCH = 1000;
const ROUNDS = 5;
const TARGET_CPU_MS = 150;
const KEYS = 100_000;

const fn = async (): Promise<number> => 1;
const swallow = (): undefined => undefined;

/**
 * Per-call cost of each task (one task = one batch of {@link BATCH} calls), as process CPU time:
 * the machine is shared, and wall time would charge a task for the time other processes ran.
 * Tasks are interleaved over {@link ROUNDS} rounds, each task keeping its best round, so that a
 * busy moment cannot favour one task over another. CPU time includes the GC's helper threads: a
 * breaker that allocates more pays for its garbage.
 */
function perCall(tasks: Record<string, () => unknown>): Promise<Row[]> {
  return measureCpuPerCall(tasks, { batch: BATCH, rounds: ROUNDS, targetCpuMs: TARGET_CPU_MS, minCalls: 20, minInvocations: 10 });
}


const ops = (rows: readonly Row[], name: string): number => rows.find((row) => row.name === name)?.opsPerSecond ?? Number.NaN;

// --- 1. success path ------------------------------------------------------------------------------

const registry = createMetricsRegistry({ defaultMetrics: false });
const bulwark = createCircuitBreaker({ name: 'bench', registry, failureThreshold: 5, resetTimeoutMs: 30_000, halfOpenRequests: 3 });
const bulwarkTimed = createCircuitBreaker({ name: 'bench-timed', registry, failureThreshold: 5, resetTimeoutMs: 30_000, halfOpenRequests: 3, latencySampling: false });
const cockatiel = circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) });
const opossumNoTimeout = new OpossumBreaker(fn, { timeout: false });
const opossumDefault = new OpossumBreaker(fn);

const success = await perCall({
  'direct await fn()': async () => {
    for (let index = 0; index < BATCH; index += 1) await fn();
  },
  'bulwark execute': async () => {
    for (let index = 0; index < BATCH; index += 1) await bulwark.execute(fn);
  },
  'bulwark tryAcquire/release': async () => {
    for (let index = 0; index < BATCH; index += 1) {
      const permit = bulwark.tryAcquire();
      if (permit === 0) throw new Error('unexpected rejection');
      try {
        await fn();
        bulwark.release(permit, 'success', -1);
      } catch (error) {
        bulwark.release(permit, 'failure', -1);
        throw error;
      }
    }
  },
  'bulwark execute (every call timed)': async () => {
    for (let index = 0; index < BATCH; index += 1) await bulwarkTimed.execute(fn);
  },
  'cockatiel execute': async () => {
    for (let index = 0; index < BATCH; index += 1) await cockatiel.execute(fn);
  },
  'opossum fire (timeout: false)': async () => {
    for (let index = 0; index < BATCH; index += 1) await opossumNoTimeout.fire();
  },
  'opossum fire (defaults)': async () => {
    for (let index = 0; index < BATCH; index += 1) await opossumDefault.fire();
  },
});
if (bulwark.state !== 'closed') throw new Error('the Bulwark breaker left the closed state during the success benchmark');

// --- 2. open state --------------------------------------------------------------------------------

bulwark.isolate();
const cockatielOpen = circuitBreaker(handleAll, { halfOpenAfter: 3_600_000, breaker: new ConsecutiveBreaker(1) });
await cockatielOpen.execute(() => Promise.reject(new Error('trip'))).catch(swallow);
opossumNoTimeout.open();
opossumDefault.open();
for (const [name, call] of [
  ['bulwark', () => bulwark.execute(fn)],
  ['cockatiel', () => cockatielOpen.execute(fn)],
  ['opossum', () => opossumNoTimeout.fire()],
] as const) {
  if ((await call().then(() => 'resolved', () => 'rejected')) !== 'rejected') throw new Error(`${name} is not open`);
}

const open = await perCall({
  'bulwark execute (open)': async () => {
    for (let index = 0; index < BATCH; index += 1) await bulwark.execute(fn).catch(swallow);
  },
  'bulwark tryAcquire (open)': () => {
    let rejected = 0;
    for (let index = 0; index < BATCH; index += 1) if (bulwark.tryAcquire() === 0) rejected += 1;
    if (rejected !== BATCH) throw new Error('tryAcquire let a call through while open');
  },
  'cockatiel execute (open)': async () => {
    for (let index = 0; index < BATCH; index += 1) await cockatielOpen.execute(fn).catch(swallow);
  },
  'opossum fire (open, timeout: false)': async () => {
    for (let index = 0; index < BATCH; index += 1) await opossumNoTimeout.fire().catch(swallow);
  },
  'opossum fire (open, defaults)': async () => {
    for (let index = 0; index < BATCH; index += 1) await opossumDefault.fire().catch(swallow);
  },
});
opossumNoTimeout.shutdown();
opossumDefault.shutdown();

// --- 3. heap per keyed breaker ----------------------------------------------------------------------

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc (npm run bench -- breaker does)');

function heapUsed(): number {
  for (let round = 0; round < 4; round += 1) gc?.();
  return process.memoryUsage().heapUsed;
}

interface Heap {
  readonly created: number;
  readonly used: number;
}

/** Bytes per breaker: as created, and after one successful call through each. */
async function heapPerBreaker(build: () => { call: (key: string) => Promise<unknown>; keep: unknown; dispose: () => void }): Promise<Heap> {
  const before = heapUsed();
  const built = build();
  const created = heapUsed();
  for (let index = 0; index < KEYS; index += 1) await built.call(`tenant-${index}`);
  const used = heapUsed();
  // Keep the structure alive until measured.
  if (built.keep === undefined) throw new Error('unreachable');
  built.dispose();
  return { created: (created - before) / KEYS, used: (used - before) / KEYS };
}

const bulwarkHeap = await heapPerBreaker(() => {
  const breakers = createBreakerRegistry({
    maxSize: KEYS,
    registry: createMetricsRegistry({ defaultMetrics: false }),
    defaults: { service: 'tenant-api', failureThreshold: 5, resetTimeoutMs: 30_000, halfOpenRequests: 3 },
  });
  for (let index = 0; index < KEYS; index += 1) breakers.get(`tenant-${index}`);
  return { call: (key) => breakers.get(key).execute(fn), keep: breakers, dispose: () => breakers.clear() };
});

const opossumHeap = await heapPerBreaker(() => {
  const breakers = new Map<string, Opossum>();
  for (let index = 0; index < KEYS; index += 1) breakers.set(`tenant-${index}`, new OpossumBreaker(fn, { timeout: false }));
  return {
    call: (key) => breakers.get(key)?.fire() ?? Promise.reject(new Error('missing')),
    keep: breakers,
    dispose: () => {
      for (const breaker of breakers.values()) breaker.shutdown();
      breakers.clear();
    },
  };
});

const cockatielHeap = await heapPerBreaker(() => {
  const breakers = new Map<string, ReturnType<typeof circuitBreaker>>();
  for (let index = 0; index < KEYS; index += 1) breakers.set(`tenant-${index}`, circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) }));
  return { call: (key) => breakers.get(key)?.execute(fn) ?? Promise.reject(new Error('missing')), keep: breakers, dispose: () => breakers.clear() };
});

// --- report ---------------------------------------------------------------------------------------------

const executeVsCockatiel = ops(success, 'bulwark execute') / ops(success, 'cockatiel execute');
const executeVsOpossum = ops(success, 'bulwark execute') / ops(success, 'opossum fire (timeout: false)');
const executeVsOpossumDefault = ops(success, 'bulwark execute') / ops(success, 'opossum fire (defaults)');
const openVsOpossum = ops(open, 'bulwark execute (open)') / ops(open, 'opossum fire (open, timeout: false)');
const openVsOpossumDefault = ops(open, 'bulwark execute (open)') / ops(open, 'opossum fire (open, defaults)');
const met = executeVsCockatiel >= 1.5 && executeVsOpossum >= 5 && openVsOpossum >= 10;
const bytes = (value: number) => `${Math.round(value)} B`;

console.log(`## Circuit breakers

\`npm run bench -- breaker\` · ${machineLine()} · cockatiel ${versionOf('cockatiel')} · opossum ${versionOf('opossum')}

The same resolved \`async () => 1\` through each breaker. Bulwark's breaker runs with its defaults:
consecutive-failure model, metrics on a prom-client registry (requests by result, latency histogram
sampled at high rates), generation checks. cockatiel: \`circuitBreaker(handleAll, { halfOpenAfter, breaker:
new ConsecutiveBreaker(5) })\`. opossum: \`new CircuitBreaker(fn, { timeout: false })\` and with its defaults
(10 s timeout timer per call). Per-call figures: process CPU time over batches of ${BATCH} awaited calls,
best of ${ROUNDS} interleaved rounds (the machine is shared; CPU time includes GC threads).

### Success path (closed)

${table(success, 'direct await fn()')}

### Open state (rejected calls)

${table(open, 'opossum fire (open, timeout: false)')}

### Heap per breaker, ${KEYS.toLocaleString('en-US')} keyed breakers

| breakers | as created | after one call each |
|---|---:|---:|
| Bulwark registry (\`createBreakerRegistry\`, one shared \`service\` label) | ${bytes(bulwarkHeap.created)} | ${bytes(bulwarkHeap.used)} |
| opossum 9 (\`Map\` of \`new CircuitBreaker(fn, { timeout: false })\`) | ${bytes(opossumHeap.created)} | ${bytes(opossumHeap.used)} |
| cockatiel 3 (\`Map\` of \`circuitBreaker(…)\`) | ${bytes(cockatielHeap.created)} | ${bytes(cockatielHeap.used)} |

Opossum also starts one interval timer per breaker (its rolling statistics); Bulwark's breakers have none.

**Verdict:** ${met ? 'targets met' : 'targets NOT met'} — success path ${executeVsCockatiel.toFixed(2)}× cockatiel (target ≥ 1.5×), ${executeVsOpossum.toFixed(2)}× opossum with \`timeout: false\` (target ≥ 5×; ${executeVsOpossumDefault.toFixed(2)}× opossum's defaults); open-state rejection ${openVsOpossum.toFixed(2)}× opossum (target ≥ 10×; ${openVsOpossumDefault.toFixed(2)}× with its defaults); heap ${bytes(bulwarkHeap.used)} per Bulwark breaker against ${bytes(opossumHeap.used)} per opossum breaker (${(opossumHeap.used / bulwarkHeap.used).toFixed(0)}× less).
`);
