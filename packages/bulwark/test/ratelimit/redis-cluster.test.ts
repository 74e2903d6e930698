/**
 * A Redis Cluster of three masters on loopback: multi-limit decisions run as one script per
 * identity without CROSSSLOT errors, batches are split per node, and stopping one master degrades
 * only the keys in its slots (one breaker per node).
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/observability/metrics-registry.js';
import { createMemoryStore, createMultiLimiter, createRateLimiter, createRedisStore, createResilientStore } from '../../src/ratelimit/index.js';
import { manualClock } from './support/definitions.js';
import { startRedisCluster, type RedisServer } from './support/redis-server.js';

describe('Redis Cluster of three masters', () => {
  let cluster: { readonly nodes: readonly RedisServer[]; stop(): Promise<void> };
  let client: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]!.port }], { enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 1 } });
    client.on('error', () => undefined); // a stopped master is expected below
    await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it('decides several limits per identity in one script, on every node, and degrades only a stopped master\'s keys', async () => {
    const clock = manualClock(0);
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const redis = createRedisStore({ client, timeoutMs: 2000, registry });
    const store = createResilientStore({ redis, local: createMemoryStore({ registry }), minFallbackMs: 10_000, breaker: { failureThreshold: 2, resetTimeoutMs: 1000 }, now: clock.now, registry });
    const perSecond = createRateLimiter({ name: 'c-second', algorithm: 'gcra', limit: 50, windowMs: 1000, store, onStoreFailure: 'local', blockCache: false, registry });
    const perHour = createRateLimiter({ name: 'c-hour', algorithm: 'sliding-window', limit: 1000, windowMs: 3_600_000, store, onStoreFailure: 'local', blockCache: false, registry });
    const perDay = createRateLimiter({ name: 'c-day', algorithm: 'fixed-window', limit: 5000, windowMs: 86_400_000, store, onStoreFailure: 'local', blockCache: false, registry });
    const tiers = createMultiLimiter([perSecond, perHour, perDay]);
    const keys = Array.from({ length: 300 }, (_, index) => `tenant-${index}`);

    const first = await Promise.all(keys.map((key) => tiers.consume(key)));
    for (const decision of first) {
      expect(decision.allowed).toBe(true);
      expect(decision.decisions.map((d) => d.reason)).toEqual(['ok', 'ok', 'ok']);
    }
    const byNode = new Map<string, string[]>();
    for (const key of keys) byNode.set(redis.nodeFor(key), [...(byNode.get(redis.nodeFor(key)) ?? []), key]);
    expect(byNode.size).toBe(3);
    const remaining = await perHour.peek(keys[0]!);
    expect(remaining).toMatchObject({ reason: 'ok', remaining: 999 });

    const victim = cluster.nodes[2]!;
    const victimNode = `127.0.0.1:${victim.port}`;
    expect(byNode.has(victimNode)).toBe(true);
    await victim.kill();

    for (let round = 0; round < 3; round += 1) await Promise.all(keys.map((key) => tiers.consume(key)));
    const after = await Promise.all(keys.map(async (key) => ({ key, decision: await tiers.consume(key) })));
    for (const { key, decision } of after) {
      const expected = redis.nodeFor(key) === victimNode ? 'fallback' : 'ok';
      expect(decision.decisions.map((d) => d.reason)).toEqual([expected, expected, expected]);
      expect(decision.allowed).toBe(true);
    }
    const routes = new Map(store.stats().nodes.map((node) => [node.node, node.route]));
    expect(routes.get(victimNode)).toBe('fallback');
    expect([...routes.entries()].filter(([node]) => node !== victimNode).every(([, route]) => route === 'redis')).toBe(true);
  }, 60_000);
});
