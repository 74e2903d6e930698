import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { createApiKeyVerifier } from './api-key-verifier.js';
import { createMemoryKeyStore } from './key-store-memory.js';
import { createMemoryRevocationBus } from './revocation.js';
import type { RevocationBus, RevocationEvent } from './revocation.js';
import { createRevocationBus } from './revocation-redis.js';

const REDIS_URL = process.env.BULWARK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Resolves with the first event matching `predicate`; rejects after `ms` (the documented bound), never sleeps. */
function nextEvent(bus: RevocationBus, predicate: (event: RevocationEvent) => boolean, ms = 1000): Promise<RevocationEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no matching revocation event within ${ms} ms`));
    }, ms);
    const unsubscribe = bus.subscribe((event) => {
      if (!predicate(event)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(event);
    });
  });
}

const invalidates = (id: string) => (event: RevocationEvent) => event.type === 'invalidate' && event.keyIds.includes(id);

describe('createMemoryRevocationBus', () => {
  it('delivers to every subscriber, and a throwing listener does not stop the others', async () => {
    const bus = createMemoryRevocationBus();
    const seen: RevocationEvent[] = [];
    bus.subscribe(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = bus.subscribe((event) => seen.push(event));
    await bus.publish(['key_a']);
    unsubscribe();
    await bus.publish(['key_b']);
    expect(seen).toEqual([{ type: 'invalidate', keyIds: ['key_a'] }]);
    await expect(bus.publish(['bad id!'])).rejects.toThrow(TypeError);
    await expect(bus.publish(Array.from({ length: 1001 }, (_, i) => `key_${i}`))).rejects.toThrow(/at most 1000/);
    await bus.close();
  });
});

describe('createRevocationBus start-up and shutdown', () => {
  it('subscribes once its connection is ready, without a warning, when created while still connecting', async () => {
    const warnings: unknown[] = [];
    const logger = { error: () => undefined, warn: (object: object) => warnings.push(object), info: () => undefined, debug: () => undefined };
    // No offline queue, as the gateway configures it: a SUBSCRIBE sent while connecting is refused.
    const redis = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    const created = createRevocationBus({ redis, channel: `bulwark:test:revocations:${randomBytes(6).toString('hex')}`, logger });
    await created.ready;
    expect(warnings).toEqual([]);
    await created.close();
    redis.disconnect();
  });
});

describe('createRevocationBus (Redis pub/sub)', () => {
  const channel = `bulwark:test:revocations:${randomBytes(6).toString('hex')}`;
  const connections: Redis[] = [];
  const buses: RevocationBus[] = [];
  const connect = (): Redis => {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    connections.push(redis);
    return redis;
  };
  const bus = (extra: { subscriber?: Redis } = {}): RevocationBus => {
    const created = createRevocationBus({ redis: connect(), channel, ...extra });
    buses.push(created);
    return created;
  };

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });
  afterAll(async () => {
    await Promise.all(connections.map((redis) => redis.quit().catch(() => undefined)));
  });
  beforeAll(async () => {
    const probe = connect();
    await probe.ping();
  });

  it('makes a key revoked on instance A refused by instance B within a second', async () => {
    const pepper = randomBytes(32);
    const store = createMemoryKeyStore({ pepper }); // stands for the shared database
    const busA = bus();
    const busB = bus();
    await Promise.all([busA.ready, busB.ready]);
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const cache = { ttlMs: 60_000 }; // long TTL: only the broadcast can explain a refusal
    const verifierA = createApiKeyVerifier({ store, pepper, revocation: busA, cache, registry });
    const verifierB = createApiKeyVerifier({ store, pepper, revocation: busB, cache, registry });
    const { key, record } = await store.create({ name: 'shared', tenant: 't' });
    expect((await verifierA.verify(key)).ok).toBe(true);
    expect((await verifierB.verify(key)).ok).toBe(true);

    const heardByB = nextEvent(busB, invalidates(record.id));
    await store.revoke(record.id);
    await busA.publish([record.id]);
    expect(await verifierA.verify(key)).toEqual({ ok: false, reason: 'revoked' });
    await heardByB;
    expect(await verifierB.verify(key)).toEqual({ ok: false, reason: 'revoked' });
    await Promise.all([verifierA.close(), verifierB.close()]);
  });

  it('delivers its own broadcast to local listeners once, not again from Redis', async () => {
    const busA = bus();
    const busB = bus();
    await Promise.all([busA.ready, busB.ready]);
    const local = vi.fn();
    busA.subscribe(local);
    await busA.publish(['key_own']);
    // Redis delivers in order on A's subscription: once A hears B's later message, A's own has passed.
    const sentinel = nextEvent(busA, invalidates('key_sentinel'));
    await busB.publish(['key_sentinel']);
    await sentinel;
    expect(local.mock.calls.filter(([event]) => invalidates('key_own')(event as RevocationEvent))).toHaveLength(1);
  });

  it('ignores malformed and hostile messages on the channel', async () => {
    const warn = vi.fn();
    const listener = vi.fn();
    const subscriberBus = createRevocationBus({ redis: connect(), channel, logger: { warn, error: vi.fn(), info: vi.fn(), debug: vi.fn() } });
    buses.push(subscriberBus);
    await subscriberBus.ready;
    subscriberBus.subscribe(listener);
    const raw = connect();
    for (const message of ['not json', '{"v":2,"o":"x","ids":["key_a"]}', '{"v":1,"o":"x","ids":["bad id"]}', '{"v":1,"o":"x","ids":"key_a"}', 'null', `{"v":1,"o":"x","ids":["${'a'.repeat(100_000)}"]}`, '{"__proto__":{"v":1},"o":"x","ids":[]}']) {
      await raw.publish(channel, message);
    }
    const valid = nextEvent(subscriberBus, invalidates('key_valid'));
    await raw.publish(channel, JSON.stringify({ v: 1, o: 'other', ids: ['key_valid'] }));
    await valid;
    expect(listener).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledTimes(7);
  });

  it('emits resync after its subscription reconnects, so caches drop what they may have missed', async () => {
    const subscriber = connect();
    const busA = bus({ subscriber });
    await busA.ready;
    const resync = nextEvent(busA, (event) => event.type === 'resync', 5000);
    subscriber.disconnect(true);
    expect(await resync).toEqual({ type: 'resync' });
    // Still subscribed after the reconnect.
    const busB = bus();
    await busB.ready;
    const heard = nextEvent(busA, invalidates('key_after'));
    await busB.publish(['key_after']);
    await heard;
  });

  it('validates its options', () => {
    expect(() => createRevocationBus({ redis: {} as Redis })).toThrow(/ioredis client/);
    expect(() => createRevocationBus({ redis: connect(), channel: 'has space' })).toThrow(/channel/);
  });
});
