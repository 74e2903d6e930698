import { randomUUID } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createMemoryReplayStore } from './memory-replay-store.js';
import { createRedisReplayStore } from './redis-replay-store.js';
import { ReplayStoreFullError, replayKey, type ReplayStore } from './replay-store.js';

/**
 * One contract, two implementations. Each harness can make time pass: the memory store reads an
 * injected clock; for Redis, every key under the run's prefix has its remaining TTL shortened
 * (or is deleted when it would have expired), which is what the passing of time does to it.
 */
interface Harness {
  readonly store: ReplayStore;
  elapse(ms: number): Promise<void>;
}

const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
const runPrefix = `bulwark-test:replay:${randomUUID()}:`;

async function redisKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

afterAll(async () => {
  const keys = await redisKeys(runPrefix);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const harnesses: Record<string, () => Harness> = {
  memory: () => {
    let clock = 1_700_000_000_000;
    return {
      store: createMemoryReplayStore({ maxSize: 10_000, now: () => clock }),
      elapse: async (ms) => {
        clock += ms;
      },
    };
  },
  redis: () => {
    const prefix = `${runPrefix}${randomUUID()}:`;
    return {
      store: createRedisReplayStore({ client: redis, prefix }),
      elapse: async (ms) => {
        for (const key of await redisKeys(prefix)) {
          const remaining = await redis.pttl(key);
          if (remaining - ms <= 0) await redis.del(key);
          else await redis.pexpire(key, remaining - ms);
        }
      },
    };
  },
};

describe.each(Object.entries(harnesses))('ReplayStore contract: %s', (_name, createHarness) => {
  let harness: Harness;
  beforeEach(() => {
    harness = createHarness();
  });

  it('accepts an id the first time and reports every later use as a replay', async () => {
    expect(await harness.store.checkAndStore('client-1', 'nonce-a', 60_000)).toBe(true);
    expect(await harness.store.checkAndStore('client-1', 'nonce-a', 60_000)).toBe(false);
    expect(await harness.store.checkAndStore('client-1', 'nonce-a', 60_000)).toBe(false);
  });

  it('keeps namespaces apart, so one client cannot burn another client’s nonce', async () => {
    expect(await harness.store.checkAndStore('client-1', 'shared', 60_000)).toBe(true);
    expect(await harness.store.checkAndStore('client-2', 'shared', 60_000)).toBe(true);
  });

  it('cannot be confused by separators inside the namespace or the id', async () => {
    expect(await harness.store.checkAndStore('a:b', 'c', 60_000)).toBe(true);
    expect(await harness.store.checkAndStore('a', 'b:c', 60_000)).toBe(true);
    expect(await harness.store.checkAndStore('a%3a;b', 'c', 60_000)).toBe(true);
  });

  it('remembers an id for its whole ttl and forgets it afterwards', async () => {
    expect(await harness.store.checkAndStore('k', 'n', 10_000)).toBe(true);
    await harness.elapse(9_000);
    expect(await harness.store.checkAndStore('k', 'n', 10_000)).toBe(false);
    await harness.elapse(1_500);
    expect(await harness.store.checkAndStore('k', 'n', 10_000)).toBe(true);
  });

  it('lets exactly one of many concurrent uses of the same id through', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => harness.store.checkAndStore('k', 'race', 60_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('stores hostile ids (control characters, lone surrogates, 10 KB) without throwing or colliding', async () => {
    const ids = ['\r\n*1\r\n$4\r\nPING', 'a b', '\ud800', '\udc00', '💥', 'x'.repeat(10_240), '%', '%25;'];
    for (const id of ids) expect(await harness.store.checkAndStore('k', id, 60_000)).toBe(true);
    for (const id of ids) expect(await harness.store.checkAndStore('k', id, 60_000)).toBe(false);
  });

  it('forgets a released id, so that its next use is a first use (a retried delivery)', async () => {
    expect(await harness.store.checkAndStore('k', 'delivery', 60_000)).toBe(true);
    await harness.store.release('k', 'delivery');
    expect(await harness.store.checkAndStore('k', 'delivery', 60_000)).toBe(true);
    expect(await harness.store.checkAndStore('k', 'delivery', 60_000)).toBe(false);
    // Releasing an id never recorded, or one of another namespace, changes nothing else.
    await harness.store.release('other', 'delivery');
    await harness.store.release('k', 'never-seen');
    expect(await harness.store.checkAndStore('k', 'delivery', 60_000)).toBe(false);
  });

  it('rejects a ttl or id that is not usable with a TypeError', async () => {
    for (const ttl of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(harness.store.checkAndStore('k', 'n', ttl)).rejects.toThrow(TypeError);
    }
    await expect(harness.store.checkAndStore('k', '', 1000)).rejects.toThrow(TypeError);
  });
});

describe('replayKey', () => {
  it('maps distinct (namespace, id) pairs to distinct keys', () => {
    const pairs: [string, string][] = [['a:b', 'c'], ['a', 'b:c'], ['a%3a;b', 'c'], ['a', '%3a;b:c'], ['\ud800', 'x'], ['\udc00', 'x']];
    expect(new Set(pairs.map(([namespace, id]) => replayKey(namespace, id))).size).toBe(pairs.length);
  });
});

describe('createMemoryReplayStore', () => {
  it('never holds more than maxSize entries', async () => {
    const store = createMemoryReplayStore({ maxSize: 3, whenFull: 'evict-oldest', now: () => 0 });
    for (let index = 0; index < 10; index += 1) await store.checkAndStore('k', `n${index}`, 60_000);
    expect(store.size).toBe(3);
  });

  it('refuses, rather than forgets a live id, when full in the default reject mode', async () => {
    const store = createMemoryReplayStore({ maxSize: 2, now: () => 0 });
    await store.checkAndStore('k', 'a', 60_000);
    await store.checkAndStore('k', 'b', 60_000);
    await expect(store.checkAndStore('k', 'c', 60_000)).rejects.toBeInstanceOf(ReplayStoreFullError);
    // The live ids are still remembered.
    expect(await store.checkAndStore('k', 'a', 60_000)).toBe(false);
  });

  it('evicts the oldest entry when full in evict-oldest mode', async () => {
    const store = createMemoryReplayStore({ maxSize: 2, whenFull: 'evict-oldest', now: () => 0 });
    await store.checkAndStore('k', 'a', 60_000);
    await store.checkAndStore('k', 'b', 60_000);
    expect(await store.checkAndStore('k', 'c', 60_000)).toBe(true);
    expect(await store.checkAndStore('k', 'b', 60_000)).toBe(false);
    expect(store.size).toBe(2);
  });

  it('makes room from expired entries first, even when they sit behind live ones', async () => {
    let clock = 0;
    const store = createMemoryReplayStore({ maxSize: 2, now: () => clock });
    await store.checkAndStore('k', 'long', 300_000);
    await store.checkAndStore('k', 'short', 60_000);
    clock = 61_000;
    expect(await store.checkAndStore('k', 'new', 60_000)).toBe(true);
    expect(await store.checkAndStore('k', 'long', 300_000)).toBe(false);
  });

  it('sweeps again for a short-lived entry added after a sweep found the rest alive', async () => {
    let clock = 0;
    const store = createMemoryReplayStore({ maxSize: 3, now: () => clock });
    await store.checkAndStore('k', 'a', 300_000);
    await store.checkAndStore('k', 'b', 10_000);
    await store.checkAndStore('k', 'x', 300_000);
    clock = 20_000;
    // Full: the sweep frees `b`; what is left lives until 300 s — but the newcomer expires at 25 s.
    expect(await store.checkAndStore('k', 'short', 5_000)).toBe(true);
    clock = 30_000;
    expect(await store.checkAndStore('k', 'd', 300_000)).toBe(true);
    expect(await store.checkAndStore('k', 'a', 300_000)).toBe(false);
  });

  it('validates its options once, with a TypeError naming the option', () => {
    expect(() => createMemoryReplayStore({ maxSize: 0 })).toThrow(/maxSize/);
    expect(() => createMemoryReplayStore({ maxSize: 1.5 })).toThrow(/maxSize/);
    expect(() => createMemoryReplayStore({ whenFull: 'drop' as 'reject' })).toThrow(/whenFull/);
  });
});

describe('createRedisReplayStore', () => {
  it('stores each id once with SET NX and the requested expiry', async () => {
    const prefix = `${runPrefix}${randomUUID()}:`;
    const store = createRedisReplayStore({ client: redis, prefix });
    await store.checkAndStore('client-1', 'nonce-1', 120_000);
    const keys = await redisKeys(prefix);
    expect(keys).toEqual([`${prefix}${replayKey('client-1', 'nonce-1')}`]);
    const ttl = await redis.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(110_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it('rejects when Redis fails, so that a verifier can fail closed', async () => {
    const store = createRedisReplayStore({ client: { set: () => Promise.reject(new Error('ECONNREFUSED')), del: () => Promise.reject(new Error('ECONNREFUSED')) } });
    await expect(store.checkAndStore('k', 'n', 1000)).rejects.toThrow('ECONNREFUSED');
    await expect(store.release('k', 'n')).rejects.toThrow('ECONNREFUSED');
  });

  it('validates its options once, with a TypeError naming the option', () => {
    expect(() => createRedisReplayStore({ client: undefined as never })).toThrow(/client/);
    expect(() => createRedisReplayStore({ client: redis, prefix: 42 as unknown as string })).toThrow(/prefix/);
  });
});
