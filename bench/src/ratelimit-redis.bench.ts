/**
 * Rate limiting on Redis: Bulwark's Redis store against rate-limiter-flexible's `RateLimiterRedis`
 * and express-rate-limit with `rate-limit-redis`, all on ioredis, with 256 decisions in flight from
 * one process; and the ceiling, `redis-benchmark` running Bulwark's own GCRA script with EVALSHA
 * and pipelining (what Redis itself can do, with no Node in the way).
 *
 *   npm run bench -- ratelimit-redis
 *
 * Target: ≥ 1.5× the best peer's decisions per second with a p99 latency no worse; report the
 * fraction of the redis-benchmark ceiling reached.
 *
 * A private redis-server on a free port (no persistence) is started for the run, so that other
 * clients of the machine's Redis do not disturb it. Each task runs a closed loop: 256 workers, each
 * awaiting one decision at a time over 10,000 keys, for a fixed time after a warm-up; tasks take
 * turns over several rounds and keep their best. The peers run both with plain ioredis clients and
 * with `enableAutoPipelining`, and the best of the two counts as the peer.
 */
import { spawnSync } from 'node:child_process';
import { Redis, type RedisOptions } from 'ioredis';
import { RedisStore } from 'rate-limit-redis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { createMetricsRegistry } from 'bulwark/observability';
import { createRateLimiter, createRedisStore, RATE_LIMIT_REDIS_OPTIONS } from 'bulwark/ratelimit';
import { startRedisServer } from '../../test/system/support/redis-server.js';
import { formatOps, machineLine, redisServerVersion, versionOf } from './support/report.js';



const IN_FLIGHT = 256;
const KEYS = 10_000;
const WARMUP_MS = 1000;
const MEASURE_MS = 3000;
const ROUNDS = 3;
/** Every decision allowed: the common path is what is measured. */
const LIMIT = 50_000_000;
const WINDOW_MS = 60_000;

const keys = Array.from({ length: KEYS }, (_, index) => `user-${index}`);


async function client(port: number, options: Pick<RedisOptions, 'enableAutoPipelining' | 'enableOfflineQueue' | 'maxRetriesPerRequest'> = {}): Promise<Redis> {
  const redis = new Redis({ port, host: '127.0.0.1', ...options });
  await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
  return redis;
}

interface Result {
  readonly name: string;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** This process's CPU time per decision (the client side; Redis runs in its own process). */
  readonly clientCpuUs: number;
}

/** 256 workers in a closed loop for `durationMs`; decisions per second and latency percentiles. */
async function closedLoop(decide: (key: string) => Promise<unknown>, durationMs: number, record: boolean): Promise<{ ops: number; latencies: Float64Array; count: number; cpuUs: number }> {
  const latencies = new Float64Array(record ? 4_000_000 : 0);
  let count = 0;
  let next = 0;
  const stopAt = performance.now() + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      const key = keys[next] as string;
      next = next + 1 === KEYS ? 0 : next + 1;
      const started = performance.now();
      await decide(key);
      if (record && count < latencies.length) latencies[count] = performance.now() - started;
      count += 1;
    }
  };
  const begun = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const used = process.cpuUsage(cpu);
  return { ops: (count * 1000) / (performance.now() - begun), latencies, count, cpuUs: (used.user + used.system) / count };
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

const server = await startRedisServer();
const { port } = server;
const registry = createMetricsRegistry({ defaultMetrics: false });

const tasks: Record<string, (key: string) => Promise<unknown>> = {};

// Bulwark: Redis TIME, the decisions of a tick batched into one EVALSHA per script (the default).
// Fixed window is the peers' algorithm (the headline comparison); GCRA and the sliding window beside it.
for (const algorithm of ['fixed-window', 'gcra', 'sliding-window'] as const) {
  const redis = await client(port, { ...RATE_LIMIT_REDIS_OPTIONS });
  const store = createRedisStore({ client: redis, timeoutMs: 1000, registry });
  const limiter = createRateLimiter({ name: `bench-${algorithm}`, algorithm, limit: LIMIT, windowMs: WINDOW_MS, store, registry });
  tasks[`bulwark ${algorithm}`] = (key) => limiter.consume(key);
}
{
  const redis = await client(port, { ...RATE_LIMIT_REDIS_OPTIONS });
  const store = createRedisStore({ client: redis, timeoutMs: 1000, batch: false, namespace: 'bw:rl2:', registry });
  const limiter = createRateLimiter({ name: 'bench-unbatched', algorithm: 'fixed-window', limit: LIMIT, windowMs: WINDOW_MS, store, registry });
  tasks['bulwark fixed-window (batch: false)'] = (key) => limiter.consume(key);
}
for (const autoPipelining of [false, true]) {
  const suffix = autoPipelining ? ' + enableAutoPipelining' : '';
  const flexible = new RateLimiterRedis({ storeClient: await client(port, { enableAutoPipelining: autoPipelining }), points: LIMIT, duration: WINDOW_MS / 1000, keyPrefix: `rlf${autoPipelining ? 'a' : ''}` });
  tasks[`rate-limiter-flexible RateLimiterRedis${suffix}`] = (key) => flexible.consume(key);
  const redis = await client(port, { enableAutoPipelining: autoPipelining });
  const store = new RedisStore({ sendCommand: (...args: string[]) => redis.call(args[0] as string, ...args.slice(1)) as Promise<number>, prefix: `erl${autoPipelining ? 'a' : ''}:` });
  await store.init({ windowMs: WINDOW_MS } as Parameters<RedisStore['init']>[0]);
  tasks[`express-rate-limit + rate-limit-redis${suffix}`] = (key) => store.increment(key);
}

const best = new Map<string, Result>();
for (const decide of Object.values(tasks)) await closedLoop(decide, WARMUP_MS, false);
for (let round = 0; round < ROUNDS; round += 1) {
  for (const [name, decide] of Object.entries(tasks)) {
    const run = await closedLoop(decide, MEASURE_MS, true);
    const sorted = run.latencies.subarray(0, Math.min(run.count, run.latencies.length)).sort();
    const result = { name, opsPerSecond: run.ops, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), clientCpuUs: run.cpuUs };
    const previous = best.get(name);
    if (previous === undefined || result.opsPerSecond > previous.opsPerSecond) best.set(name, result);
  }
}

// The ceilings: redis-benchmark with EVALSHA, 50 connections, 16 commands per pipeline — Redis alone,
// no Node client. One runs Bulwark's GCRA script with one decision per call; the other a minimal
// counter script (INCR, PEXPIRE on the first hit), the kind the peers run.
const loader = await client(port);
const { luaScripts } = await import('../../packages/bulwark/src/ratelimit/lua-scripts.js');
const gcraSha = (await loader.script('LOAD', luaScripts().byAlgorithm.gcra.source)) as string;
const counterSha = (await loader.script('LOAD', "local v = redis.call('INCR', KEYS[1]) if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return v")) as string;
loader.disconnect();
const emissionUs = Math.ceil((WINDOW_MS * 1000) / LIMIT);
function redisBenchmark(args: readonly string[]): number {
  const run = spawnSync('redis-benchmark', ['-p', String(port), '-q', '-n', '1000000', '-c', '50', '-P', '16', '-r', String(KEYS), ...args], { encoding: 'utf8', timeout: 120_000 });
  return Number(/([\d.]+) requests per second/.exec(run.stdout)?.[1] ?? Number.NaN);
}
// One GCRA decision per call: KEYS[1], time from TIME, one limit (g, limit, window, burst, emission, blocking), reference 0 × 2^27 + cost 1.
const gcraCeiling = redisBenchmark(['EVALSHA', gcraSha, '1', 'bw:rl:{user-__rand_int__}:ceiling:g', '', '1', 'g', String(LIMIT), String(WINDOW_MS), String(LIMIT), String(emissionUs), '1', '1']);
const ceiling = redisBenchmark(['EVALSHA', counterSha, '1', 'ceiling:{user-__rand_int__}', String(WINDOW_MS)]);
await server.stop();

const rows = [...best.values()];
const ours = best.get('bulwark fixed-window') as Result;
const peers = rows.filter((row) => !row.name.startsWith('bulwark'));
const bestPeer = peers.reduce((top, row) => (row.opsPerSecond > top.opsPerSecond ? row : top));
const ratio = ours.opsPerSecond / bestPeer.opsPerSecond;
const latencyOk = ours.p99Ms <= bestPeer.p99Ms;

const lines = ['| task | decisions/s | ratio vs best peer | p50 ms | p99 ms | client CPU µs/decision | of ceiling |', '|---|---:|---:|---:|---:|---:|---:|'];
for (const row of rows) {
  lines.push(`| ${row.name} | ${formatOps(row.opsPerSecond)} | ${(row.opsPerSecond / bestPeer.opsPerSecond).toFixed(2)}x | ${row.p50Ms.toFixed(2)} | ${row.p99Ms.toFixed(2)} | ${row.clientCpuUs.toFixed(1)} | ${((100 * row.opsPerSecond) / ceiling).toFixed(0)} % |`);
}
lines.push(`| ceiling: redis-benchmark EVALSHA counter script -P 16 -c 50 | ${formatOps(ceiling)} |  |  |  |  | 100 % |`);
lines.push(`| redis-benchmark EVALSHA Bulwark GCRA script, 1 decision per call, -P 16 -c 50 | ${formatOps(gcraCeiling)} |  |  |  |  | ${((100 * gcraCeiling) / ceiling).toFixed(0)} % |`);

console.log(`## Rate limiting on Redis: Bulwark vs rate-limiter-flexible and express-rate-limit

\`npm run bench -- ratelimit-redis\` · ${machineLine()} · redis-server ${redisServerVersion()} · ioredis ${versionOf('ioredis')} · rate-limiter-flexible ${versionOf('rate-limiter-flexible')} · rate-limit-redis ${versionOf('rate-limit-redis')}

${IN_FLIGHT} decisions in flight from one process (closed loop, ${KEYS.toLocaleString('en')} keys, every decision allowed), against a private
redis-server on the same machine; best of ${ROUNDS} rounds of ${MEASURE_MS / 1000} s per task. rate-limiter-flexible and rate-limit-redis count
fixed windows (EVALSHA of an increment script); Bulwark's fixed window is the like-for-like row and the verdict's, with
its GCRA and sliding-window counter beside it (Redis \`TIME\`, exact integer arithmetic). Latency is per decision, from
the call to its answer; client CPU is this process's CPU time per decision. The ceiling is \`redis-benchmark\` running Bulwark's GCRA script with
EVALSHA, 50 connections, 16 commands per pipeline: Redis alone, no Node client, running a minimal counter script
(INCR, PEXPIRE on the first hit); Bulwark's own GCRA script with one decision per call is shown beside it. Bulwark sends
the decisions of one event-loop tick as one EVALSHA (up to 128 decisions), so it can pass the one-decision-per-call
figure.

${lines.join('\n')}

Verdict: Bulwark ${formatOps(ours.opsPerSecond)} decisions/s, ${ratio.toFixed(2)}× the best peer (${bestPeer.name}; target ≥ 1.5×: ${ratio >= 1.5 ? 'met' : 'NOT met'}), p99 ${ours.p99Ms.toFixed(2)} ms vs ${bestPeer.p99Ms.toFixed(2)} ms (no worse: ${latencyOk ? 'met' : 'NOT met'}); ${((100 * ours.opsPerSecond) / ceiling).toFixed(0)} % of the redis-benchmark ceiling (${formatOps(ceiling)}/s).
`);
process.exit(0);
