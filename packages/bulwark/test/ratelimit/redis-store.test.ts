import calculateSlot from 'cluster-key-slot';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMetricsRegistry } from '../../src/observability/metrics-registry.js';
import { createMemoryStore } from '../../src/ratelimit/memory-store.js';
import { createRedisStore, RATE_LIMIT_REDIS_OPTIONS, type RedisRateLimitStore } from '../../src/ratelimit/redis-store.js';
import { createRateLimiter } from '../../src/ratelimit/limiter.js';
import type { RateLimitAlgorithm } from '../../src/ratelimit/types.js';
import { limitOf, manualClock } from './support/definitions.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { connected, deleteNamespace, storeClient, uniqueNamespace } from './support/shared-redis.js';

const quiet = () => createMetricsRegistry({ defaultMetrics: false });

describe('Redis store on the shared Redis', () => {
  let client: Redis;
  const namespaces: string[] = [];
  const namespace = (label: string): string => {
    const value = uniqueNamespace(label);
    namespaces.push(value);
    return value;
  };

  beforeAll(async () => {
    client = await connected(storeClient());
  });
  afterAll(async () => {
    for (const value of namespaces) await deleteNamespace(client, value);
    client.disconnect();
  });

  it('decides exactly like its memory twin for any history of single and multi-limit checks', async () => {
    const algorithms: RateLimitAlgorithm[] = ['gcra', 'sliding-window', 'fixed-window'];
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          limit: fc.integer({ min: 1, max: 8 }),
          windowMs: fc.integer({ min: 5, max: 2000 }),
          start: fc.integer({ min: 0, max: 2 ** 40 }),
          steps: fc.array(
            fc.record({ gap: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3000 })), cost: fc.integer({ min: 0, max: 3 }), which: fc.integer({ min: 0, max: 3 }) }),
            { minLength: 1, maxLength: 25 },
          ),
        }),
        async ({ limit, windowMs, start, steps }) => {
          const clock = manualClock(1_600_000_000_000 + start);
          const registry = quiet();
          const redis = createRedisStore({ client, clock: 'client', now: clock.now, namespace: namespace('twin'), timeoutMs: 2000, registry });
          const memory = createMemoryStore({ now: clock.now, registry });
          const limits = algorithms.map((algorithm) => limitOf(algorithm, limit, windowMs, { prefix: `twin-${algorithm}` }));
          for (const { gap, cost, which } of steps) {
            clock.advance(gap);
            const capped = Math.min(cost, limit);
            if (which === 3) {
              const requests = limits.map((each) => ({ limit: each, key: 'k', cost: capped }));
              expect(await redis.consumeAll(requests)).toEqual(memory.consumeAll(requests));
            } else {
              const chosen = limits[which]!;
              expect(await redis.consume(chosen, 'k', capped)).toEqual(memory.consume(chosen, 'k', capped));
            }
          }
          memory.destroy();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('evaluates the calls of one tick in call order: single and multi-limit decisions match the memory twin', async () => {
    const clock = manualClock(1_700_000_000_000);
    const registry = quiet();
    const redis = createRedisStore({ client, clock: 'client', now: clock.now, namespace: namespace('batch-order'), timeoutMs: 2000, registry });
    const memory = createMemoryStore({ now: clock.now, registry });
    // One algorithm, so every call uses the same script and lands in the same batched EVALSHA.
    // (Calls of one tick that need different scripts go in separate calls of one pipeline.) 300 calls:
    // more than one EVALSHA takes (128), so the batch is split, in order.
    const limits = [limitOf('sliding-window', 5, 1000, { prefix: 'order-a' }), limitOf('sliding-window', 8, 60_000, { prefix: 'order-b' }), limitOf('sliding-window', 12, 3_600_000, { prefix: 'order-c' })];
    const calls = Array.from({ length: 300 }, (_, index) => ({ all: index % 4 === 0, key: `k${index % 3}`, cost: index % 3, limit: limits[index % 3]! }));
    const fromRedis = await Promise.all(calls.map((call) => (call.all ? redis.consumeAll(limits.map((limit) => ({ limit, key: call.key, cost: call.cost }))) : redis.consume(call.limit, call.key, call.cost))));
    const fromMemory = calls.map((call) => (call.all ? memory.consumeAll(limits.map((limit) => ({ limit, key: call.key, cost: call.cost }))) : memory.consume(call.limit, call.key, call.cost)));
    expect(fromRedis).toEqual(fromMemory);
    memory.destroy();
  });

  // Sent all at once, a burst made one round trip whose replies arrived together: the process and
  // Redis then took turns instead of working in parallel (half the throughput with 256 in flight).
  it('sends a burst larger than one call in slices, one per turn of the event loop', async () => {
    const store = createRedisStore({ client, namespace: namespace('slices'), timeoutMs: 2000, registry: quiet() });
    const limit = limitOf('fixed-window', 1000, 3_600_000, { prefix: 'sliced' });
    const evalsha = vi.spyOn(client, 'evalsha');
    const pipeline = vi.spyOn(client, 'pipeline');
    try {
      const pending = Array.from({ length: 300 }, (_, index) => store.consume(limit, `k${index % 3}`, 1));
      await new Promise((resolve) => process.nextTick(resolve));
      expect(evalsha).toHaveBeenCalledTimes(1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(evalsha).toHaveBeenCalledTimes(2);
      const decisions = await Promise.all(pending);
      expect(evalsha).toHaveBeenCalledTimes(3);
      expect(pipeline).not.toHaveBeenCalled();
      expect(decisions.every((decision) => decision.allowed)).toBe(true);
      for (const key of ['k0', 'k1', 'k2']) expect((await store.consume(limit, key, 0)).remaining).toBe(900);
    } finally {
      evalsha.mockRestore();
      pipeline.mockRestore();
    }
  });

  it('uses Redis TIME by default', async () => {
    const store = createRedisStore({ client, namespace: namespace('time'), registry: quiet() });
    const limiter = createRateLimiter({ name: 'redis-clock', algorithm: 'sliding-window', limit: 3, windowMs: 60_000, store, registry: quiet() });
    const decisions = await Promise.all([1, 2, 3, 4].map(() => limiter.consume('k')));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(3);
    const rejected = decisions.find((d) => !d.allowed)!;
    expect(rejected.retryAfterMs).toBeGreaterThan(0);
    expect(rejected.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('puts every key of one identity in one hash slot, with the identity as the hash tag', () => {
    const store = createRedisStore({ client, namespace: 'bw:rl:', registry: quiet() });
    const keys = (['gcra', 'sliding-window', 'fixed-window', 'concurrency'] as const).flatMap((algorithm, index) => store.redisKeys(limitOf(algorithm, 5, 1000, { prefix: `p${index}` }), 'tenant-42'));
    expect(keys).toEqual(['bw:rl:{tenant-42}:p0:g', 'bw:rl:{tenant-42}:p1:s:0', 'bw:rl:{tenant-42}:p1:s:1', 'bw:rl:{tenant-42}:p2:f', 'bw:rl:{tenant-42}:p3:c:s', 'bw:rl:{tenant-42}:p3:c:n']);
    expect(new Set(keys.map((key) => calculateSlot(key))).size).toBe(1);
    expect(calculateSlot(keys[0]!)).toBe(calculateSlot('tenant-42'));
    // A key with braces would move the hash tag: it is hashed, and its limits still share one slot.
    const braced = (['gcra', 'sliding-window'] as const).flatMap((algorithm) => store.redisKeys(limitOf(algorithm, 5, 1000, { prefix: algorithm }), 'a}b{c'));
    expect(braced[0]).toMatch(/^bw:rl:\{#[A-Za-z0-9_-]{43}\}:gcra:g$/);
    expect(new Set(braced.map((key) => calculateSlot(key))).size).toBe(1);
  });

  it('batches many calls of one tick and answers each correctly, with and without batching', async () => {
    for (const batch of [true, false]) {
      const store = createRedisStore({ client, namespace: namespace(`batch-${String(batch)}`), batch, timeoutMs: 2000, registry: quiet() });
      const limit = limitOf('fixed-window', 100, 3_600_000, { prefix: 'batched' });
      const decisions = await Promise.all(Array.from({ length: 300 }, (_, index) => store.consume(limit, `k${index % 3}`, 1)));
      expect(decisions.every((d) => d.allowed)).toBe(true);
      for (const key of ['k0', 'k1', 'k2']) expect((await store.consume(limit, key, 0)).remaining).toBe(0);
    }
  });

  it('refuses a client that would queue commands while disconnected, and bad options', () => {
    const queueing = new Redis({ lazyConnect: true });
    expect(() => createRedisStore({ client: queueing })).toThrow(/enableOfflineQueue: false/);
    const ok = new Redis({ lazyConnect: true, ...RATE_LIMIT_REDIS_OPTIONS });
    expect(() => createRedisStore({ client: ok, timeoutMs: 0 })).toThrow(/timeoutMs must be an integer between 1 and 10000/);
    expect(() => createRedisStore({ client: ok, clock: 'sundial' as 'redis' })).toThrow(/clock must be/);
    expect(() => createRedisStore({ client: ok, namespace: 'a{b}' })).toThrow(/namespace must be/);
    expect(() => createRedisStore({ client: {} as Redis })).toThrow(/ioredis/);
    queueing.disconnect();
    ok.disconnect();
  });

  it('detects two limiters sharing a prefix through two store objects on one client', () => {
    const ns = namespace('claims');
    const first = createRedisStore({ client, namespace: ns, registry: quiet() });
    const second = createRedisStore({ client, namespace: ns, registry: quiet() });
    const limiter = createRateLimiter({ name: 'shared-prefix', limit: 5, windowMs: 1000, store: first, registry: quiet() });
    expect(() => createRateLimiter({ name: 'shared-prefix', limit: 5, windowMs: 1000, store: second, registry: quiet() })).toThrow(/already used/);
    limiter.dispose();
  });

  it('never lets more than the limit through for concurrent clients on one key', async () => {
    const ns = namespace('concurrent');
    const clients = await Promise.all(Array.from({ length: 8 }, () => connected(storeClient())));
    try {
      for (const algorithm of ['gcra', 'sliding-window', 'fixed-window'] as const) {
        const stores = clients.map((each) => createRedisStore({ client: each, namespace: ns, timeoutMs: 5000, registry: quiet() }));
        // An hour-long window: no refill or window change can happen during the test.
        const limit = limitOf(algorithm, 60, 3_600_000, { prefix: `race-${algorithm}` });
        const decisions = await Promise.all(stores.flatMap((store) => Array.from({ length: 40 }, () => store.consume(limit, 'hot', 1))));
        expect(decisions.filter((d) => d.allowed)).toHaveLength(60);
        expect(decisions.filter((d) => d.reason === 'limited')).toHaveLength(decisions.length - 60);
      }
    } finally {
      for (const each of clients) each.disconnect();
    }
  });
});

describe('Redis store scripts on a private Redis', () => {
  let server: RedisServer;
  let client: Redis;
  let admin: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    client = await connected(storeClient(server.port));
    admin = await connected(storeClient(server.port));
  });
  afterAll(async () => {
    client.disconnect();
    admin.disconnect();
    await server.stop();
  });

  const evalCounts = async (): Promise<{ eval: number; evalsha: number }> => {
    const info = await admin.info('commandstats');
    const calls = (name: string): number => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
    return { eval: calls('eval'), evalsha: calls('evalsha') };
  };

  it('sends EVALSHA and reloads the script only on NOSCRIPT, also after SCRIPT FLUSH mid-run', async () => {
    const registry = quiet();
    const store: RedisRateLimitStore = createRedisStore({ client, timeoutMs: 2000, registry });
    const limit = limitOf('gcra', 1000, 60_000, { prefix: 'noscript' });
    await admin.config('RESETSTAT');
    for (let index = 0; index < 20; index += 1) expect((await store.consume(limit, 'k', 1)).reason).toBe('ok');
    const afterWarmup = await evalCounts();
    expect(afterWarmup.eval).toBe(1); // the first call met NOSCRIPT once
    expect(afterWarmup.evalsha).toBe(20);
    await admin.script('FLUSH');
    const burst = await Promise.all(Array.from({ length: 10 }, () => store.consume(limit, 'k', 1)));
    expect(burst.every((d) => d.reason === 'ok')).toBe(true);
    for (let index = 0; index < 5; index += 1) expect((await store.consume(limit, 'k', 1)).reason).toBe('ok');
    const after = await evalCounts();
    // The 10 decisions of one tick went as one batched EVALSHA, which met NOSCRIPT once and was
    // re-sent with EVAL; afterwards EVALSHA only again.
    expect(after.eval - afterWarmup.eval).toBe(1);
    expect(after.evalsha - afterWarmup.evalsha).toBe(6);
    expect(await registry.metrics()).toMatch(/ratelimit_store_errors_total\{store="redis",kind="noscript"\} 2/);
  });

  it('answers within the timeout when Redis hangs, per the limit\'s onStoreFailure', async () => {
    const registry = quiet();
    const store = createRedisStore({ client, timeoutMs: 60, registry });
    const closed = limitOf('gcra', 10, 1000, { prefix: 'hang-closed', onStoreFailure: 'closed' });
    const open = limitOf('gcra', 10, 1000, { prefix: 'hang-open', onStoreFailure: 'open' });
    expect((await store.consume(closed, 'k', 1)).reason).toBe('ok');
    process.kill(server.pid!, 'SIGSTOP');
    try {
      const [rejected, allowed] = await Promise.all([store.consume(closed, 'k', 1), store.consume(open, 'k', 1)]);
      expect(rejected).toMatchObject({ allowed: false, reason: 'store_unavailable', remaining: 0 });
      expect(rejected.retryAfterMs).toBeGreaterThan(0);
      expect(allowed).toMatchObject({ allowed: true, reason: 'store_unavailable' });
      await expect(store.reset(closed, 'k')).rejects.toThrow(/did not answer within 60 ms/);
    } finally {
      process.kill(server.pid!, 'SIGCONT');
    }
    // Both decisions of that tick were one call: one timeout.
    expect(await registry.metrics()).toMatch(/ratelimit_store_errors_total\{store="redis",kind="timeout"\} 1/);
    expect((await store.consume(closed, 'k', 1)).reason).toBe('ok');
  });
});
