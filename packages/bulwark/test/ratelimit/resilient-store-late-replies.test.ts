/**
 * The Redis deadline against a busy process and a slow Redis (the machine's Redis, behind a TCP
 * proxy that can delay replies). A reply Redis sent in time but the process read late — its event
 * loop was busy past the deadline — must be decided by Redis: taking it for a timeout sends the
 * request to the local fallback, which may allow what Redis refused (the multi-instance burst
 * allowed 41–42 of 40 that way, docs/reliability.md). A reply that really is late still times out.
 * (The busy case talks to Redis directly: the proxy runs in this process, and a blocked event loop
 * would hold the command in it.)
 */
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../../../../test/system/support/tcp-proxy.js';
import { createMetricsRegistry } from '../../src/observability/metrics-registry.js';
import { createMemoryStore, createRateLimiter, createRedisStore, createResilientStore } from '../../src/ratelimit/index.js';
import { connected, deleteNamespace, SHARED_REDIS_PORT, storeClient, uniqueNamespace } from './support/shared-redis.js';

const DEADLINE_MS = 20;
const LIMIT = 3;

/** Keeps the event loop busy for `ms`: what a process at full CPU does to its timers. */
function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

describe('resilient store: late replies', () => {
  let proxy: TcpProxy;
  let direct: Redis;
  let proxied: Redis;
  const namespace = uniqueNamespace('late-replies');

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: SHARED_REDIS_PORT });
    direct = await connected(storeClient());
    proxied = await connected(storeClient(proxy.port));
  });
  afterEach(() => proxy.delayReplies(0));
  afterAll(async () => {
    await deleteNamespace(direct, namespace);
    direct.disconnect();
    proxied.disconnect();
    await proxy.close();
  });

  function setup(name: string, client: Redis, timeoutMs = DEADLINE_MS) {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const redis = createRedisStore({ client, timeoutMs, namespace, registry });
    const store = createResilientStore({ redis, local: createMemoryStore({ registry }), registry });
    const limiter = createRateLimiter({ name, algorithm: 'fixed-window', limit: LIMIT, windowMs: 3_600_000, store, onStoreFailure: 'local', blockCache: false, registry });
    const timeouts = async (): Promise<number> => (await registry.getSingleMetric('ratelimit_store_errors_total')?.get())?.values.find((value) => value.labels['kind'] === 'timeout')?.value ?? 0;
    return { limiter, timeouts };
  }

  it('decides on Redis when the reply came in time but the process read it after the deadline', async () => {
    // The script is cached on Redis first (EVALSHA, no NOSCRIPT round trip later).
    await setup('warm-up', direct, 1000).limiter.consume('warm-up');
    const { limiter, timeouts } = setup('busy', direct);
    const key = 'busy-key';
    const allowed: boolean[] = [];
    for (let request = 0; request < LIMIT + 2; request += 1) {
      const decision = limiter.consume(key);
      // The call goes out on the next tick (done by now); then the process is busy well past the deadline while
      // Redis answers in microseconds.
      await new Promise((resolve) => setImmediate(resolve));
      blockEventLoop(DEADLINE_MS * 5);
      const result = await decision;
      expect(result.reason, `request ${request}`).not.toBe('fallback');
      allowed.push(result.allowed);
    }
    // Exactly the limit, as Redis counted it: the fallback (which knows nothing of Redis's count)
    // would have allowed the two over the limit.
    expect(allowed).toEqual([true, true, true, false, false]);
    expect(await timeouts()).toBe(0);
  });

  it('still times out a reply Redis sends after the deadline, and the fallback decides', async () => {
    const { limiter, timeouts } = setup('slow', proxied);
    proxy.delayReplies(DEADLINE_MS * 10);
    const result = await limiter.consume('slow-key');
    expect(result).toMatchObject({ allowed: true, reason: 'fallback' });
    expect(await timeouts()).toBe(1);
  });
});
