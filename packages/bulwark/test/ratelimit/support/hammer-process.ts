/**
 * A separate process for redis-multiprocess.test.ts: waits for the common start time, then for each
 * algorithm fires `count` decisions at one key all at once, and prints how many were allowed as JSON.
 * Arguments: port namespace limit windowMs count startAtEpochMs
 */
import { Redis } from 'ioredis';
import { createMetricsRegistry } from '../../../src/observability/metrics-registry.js';
import { createRateLimiter, createRedisStore, RATE_LIMIT_REDIS_OPTIONS, type RateLimitAlgorithm } from '../../../src/ratelimit/index.js';

const [port, namespace, limit, windowMs, count, startAt] = process.argv.slice(2);
const client = new Redis({ host: '127.0.0.1', port: Number(port), ...RATE_LIMIT_REDIS_OPTIONS });
await new Promise<void>((resolve) => client.once('ready', () => resolve()));
const registry = createMetricsRegistry({ defaultMetrics: false });
const store = createRedisStore({ client, namespace: namespace ?? 'bw:rl:', timeoutMs: 5000, registry });
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
const results: Record<string, { allowed: number; reasons: string[] }> = {};
for (const algorithm of ['gcra', 'sliding-window', 'fixed-window'] as RateLimitAlgorithm[]) {
  const limiter = createRateLimiter({ name: algorithm, algorithm, limit: Number(limit), windowMs: Number(windowMs), store, blockCache: false, registry });
  const decisions = await Promise.all(Array.from({ length: Number(count) }, () => limiter.consume('the-key')));
  results[algorithm] = { allowed: decisions.filter((d) => d.allowed).length, reasons: [...new Set(decisions.map((d) => d.reason))] };
}
process.stdout.write(JSON.stringify(results));
client.disconnect();
