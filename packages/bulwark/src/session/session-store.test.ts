import { randomUUID } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createKeyring, generateMasterKey, parseMasterKey } from '../crypto/index.js';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { createMemoryBackend } from './memory-backend.js';
import { createMemorySessionStore } from './memory-store.js';
import { resolveSessionOptions } from './options.js';
import { createRedisSessionStore } from './redis-store.js';
import { createSessionStore } from './session-store.js';
import { describeSessionStoreContract } from './session-store.contract.js';
import type { StoreHarness } from './session-store.contract.js';
import { isSessionStoreError } from './store-error.js';
import type { SecureSessionStore, SessionRequestContext } from './types.js';

const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
const runPrefix = `bw-test:session:${process.pid}:${randomUUID().slice(0, 8)}:`;
const START = 1_700_000_000_000;

async function keysUnder(prefix: string): Promise<string[]> {
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
  const keys = await keysUnder(runPrefix);
  for (let index = 0; index < keys.length; index += 500) await redis.del(...keys.slice(index, index + 500));
  await redis.quit();
});

function clockHarness(make: (now: () => number) => StoreHarness['make']): () => StoreHarness {
  return () => {
    let clock = START;
    return { make: make(() => clock), advance: (ms) => (clock += ms), now: () => clock };
  };
}

describeSessionStoreContract(
  'memory',
  clockHarness((now) => {
    // One backend per harness, shared by every store the test makes (as one Redis would be).
    const backend = createMemoryBackend({ maxSessions: 100_000, maxLockouts: 100_000 });
    return (options) => createSessionStore(resolveSessionOptions('createMemorySessionStore', { ...options, now }), backend);
  }),
);

describeSessionStoreContract(
  'redis',
  clockHarness((now) => {
    // One key space per harness, so every test starts empty.
    const keyPrefix = `${runPrefix}${randomUUID().slice(0, 8)}:`;
    return (options) => createRedisSessionStore({ ...options, client: redis, keyPrefix, now });
  }),
);

const context: SessionRequestContext = { ip: '192.0.2.1', headers: { 'user-agent': 'test-agent' } };
const keyring = createKeyring({ current: parseMasterKey(generateMasterKey()) });
const registry = createMetricsRegistry({ defaultMetrics: false });

describe('Redis session store: what is stored', () => {
  it('keeps only hashes: no key and no value holds the cookie value or its random part', async () => {
    const keyPrefix = `${runPrefix}stored:`;
    const store = createRedisSessionStore({ client: redis, keyring, registry, keyPrefix });
    const created = await store.create({ tenant: 'acme', userId: 'alice@example.com', data: { theme: 'dark' }, context });
    if (!created.ok) throw new Error('create failed');
    await store.recordFailure({ tenant: 'acme', userId: 'alice@example.com' });
    const random = created.token.split('.')[1] as string;
    const keys = await keysUnder(keyPrefix);
    expect(keys.length).toBe(3);
    for (const key of keys) {
      expect(key).not.toContain(random);
      expect(key).not.toContain('alice');
      const type = await redis.type(key);
      const values = type === 'hash' ? Object.values(await redis.hgetall(key)) : await redis.zrange(key, '0', '-1');
      for (const value of values) {
        expect(value).not.toContain(random);
        expect(value).not.toContain(created.token);
        expect(value).not.toContain(context.ip);
      }
    }
    expect(keys.some((key) => key.endsWith(`:s:${created.session.id}`))).toBe(true);
  });

  it('puts every key of one user in one Cluster slot (a shared hash tag)', async () => {
    const keyPrefix = `${runPrefix}slots:`;
    const store = createRedisSessionStore({ client: redis, keyring, registry, keyPrefix, renewalIntervalMs: 1000 });
    const subject = { tenant: 'acme', userId: 'bob' };
    const created = await store.create({ ...subject, context });
    if (!created.ok) throw new Error('create failed');
    await store.renew(created.token, context);
    await store.recordFailure(subject);
    const keys = await keysUnder(keyPrefix);
    expect(keys.length).toBe(4);
    expect(new Set(keys.map((key) => calculateSlot(key))).size).toBe(1);
    expect(keys.every((key) => key.startsWith(`${keyPrefix}{${created.token.split('.')[0]}}:`))).toBe(true);
  });

  it('sets backstop TTLs relative to the store clock, so a clock far from Redis time keeps keys alive', async () => {
    const keyPrefix = `${runPrefix}ttl:`;
    // A clock in 1970: absolute PEXPIREAT timestamps would have deleted the keys at once.
    const store = createRedisSessionStore({ client: redis, keyring, registry, keyPrefix, now: () => 1000, idleTimeoutMs: 60_000 });
    const created = await store.create({ tenant: 'acme', userId: 'carol', context });
    if (!created.ok) throw new Error('create failed');
    for (const key of await keysUnder(keyPrefix)) {
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(60_000);
    }
    expect((await store.validate(created.token, context)).valid).toBe(true);
  });

  it('treats a record whose data was tampered with as not found, and logs it', async () => {
    const keyPrefix = `${runPrefix}corrupt:`;
    const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
    const store = createRedisSessionStore({ client: redis, keyring, registry, keyPrefix, logger });
    const created = await store.create({ tenant: 'acme', userId: 'dave', context });
    if (!created.ok) throw new Error('create failed');
    const [key] = (await keysUnder(keyPrefix)).filter((name) => name.includes(':s:'));
    for (const tampered of ['{"__proto__":{"admin":true}}', 'not json', '[1,2]', `{"a":${'['.repeat(100)}${']'.repeat(100)}}`]) {
      await redis.hset(key as string, 'd', tampered);
      expect(await store.validate(created.token, context)).toEqual({ valid: false, reason: 'not_found' });
    }
    expect(logger.error).toHaveBeenCalledWith({ sessionId: created.session.id }, expect.stringContaining('not a safe JSON object'));
  });
});

describe('Redis session store: an ioredis client with its own keyPrefix', () => {
  it('keeps every key, including those the scripts build, under the client’s prefix', async () => {
    const clientPrefix = `${runPrefix}client:`;
    const prefixed = new Redis({ host: '127.0.0.1', port: 6379, keyPrefix: clientPrefix, maxRetriesPerRequest: 1 });
    try {
      const keyPrefix = `${runPrefix}inner:`;
      const store = createRedisSessionStore({ client: prefixed, keyring, registry, keyPrefix, renewalIntervalMs: 1000 });
      const subject = { tenant: 'acme', userId: 'grace' };
      const created = await store.create({ ...subject, context });
      if (!created.ok) throw new Error('create failed');
      const renewed = await store.renew(created.token, context);
      expect((await store.validate(created.token, context)).valid).toBe(true);
      expect(await store.list(subject)).toHaveLength(1);
      expect(await store.revokeAll(subject)).toBe(1);
      expect(renewed.ok && (await store.validate(renewed.token, context)).valid).toBe(false);
      expect((await keysUnder(clientPrefix)).filter((key) => key.includes(':s:'))).toEqual([]);
      // Nothing was written outside the client's prefix.
      expect(await keysUnder(keyPrefix)).toEqual([]);
    } finally {
      prefixed.disconnect();
    }
  });
});

describe('Redis session store: failures', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reloads its scripts when Redis answers NOSCRIPT (after a restart or failover)', async () => {
    let refusals = 0;
    const forgetful = new Proxy(redis, {
      get(target, property, receiver) {
        if (property === 'evalsha' && refusals < 3) {
          return () => {
            refusals += 1;
            return Promise.reject(Object.assign(new Error('NOSCRIPT No matching script. Please use EVAL.'), { name: 'ReplyError' }));
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const store = createRedisSessionStore({ client: forgetful, keyring, registry, keyPrefix: `${runPrefix}noscript:` });
    const created = await store.create({ tenant: 'acme', userId: 'erin', context });
    expect(created.ok && (await store.validate(created.token, context)).valid).toBe(true);
    expect(refusals).toBe(2);
  });

  it('reloads its scripts when a pipelined batch is answered NOSCRIPT', async () => {
    // Every EVALSHA goes out with a hash Redis cannot know, as after a SCRIPT FLUSH (which the shared Redis must not get).
    const unknown = '0'.repeat(40);
    const forgetful = new Proxy(redis, {
      get(target, property, receiver) {
        if (property === 'evalsha') return (_sha: string, ...rest: (string | number)[]) => target.evalsha(unknown, ...(rest as [number, ...string[]]));
        if (property === 'pipeline') {
          return () => {
            const pipeline = target.pipeline();
            const evalsha = pipeline.evalsha.bind(pipeline);
            return Object.assign(pipeline, { evalsha: (_sha: string, ...rest: (string | number)[]) => evalsha(unknown, ...(rest as [number, ...string[]])) });
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const store = createRedisSessionStore({ client: forgetful, keyring, registry, keyPrefix: `${runPrefix}noscript-batch:` });
    const created = await store.create({ tenant: 'acme', userId: 'erin', context });
    if (!created.ok) throw new Error('create failed');
    const results = await Promise.all(Array.from({ length: 20 }, () => store.validate(created.token, context)));
    expect(results.every((result) => result.valid)).toBe(true);
  });

  it('fails with a SessionStoreError (timeout) when Redis does not answer in time', async () => {
    vi.useFakeTimers();
    const hung = new Proxy(redis, {
      get(target, property, receiver) {
        if (property === 'evalsha') return () => new Promise(() => undefined);
        if (property === 'pipeline') return () => ({ evalsha: () => undefined, exec: () => new Promise(() => undefined) });
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const store = createRedisSessionStore({ client: hung, keyring, registry, keyPrefix: `${runPrefix}hung:`, timeoutMs: 250 });
    const token = `${'A'.repeat(22)}.${'B'.repeat(43)}`;
    // Calls sent together in one pipeline: every one fails at the deadline, none hangs.
    const pending = [0, 1, 2].map(() => store.validate(token, context));
    const outcomes = pending.map((call) => expect(call).rejects.toSatisfy((error: unknown) => isSessionStoreError(error) && error.kind === 'timeout'));
    await vi.advanceTimersByTimeAsync(250);
    await Promise.all(outcomes);
  });

  it('fails with a SessionStoreError (unavailable) when Redis cannot be reached, and never on a garbage cookie', async () => {
    const down = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const store = createRedisSessionStore({ client: down, keyring, registry, keyPrefix: `${runPrefix}down:` });
    // A malformed cookie is answered without asking Redis at all.
    expect(await store.validate('garbage', context)).toEqual({ valid: false, reason: 'not_found' });
    const token = `${'A'.repeat(22)}.${'B'.repeat(43)}`;
    for (const call of [store.validate(token, context), store.validate(token, context), store.validate(token, context)]) {
      await expect(call).rejects.toSatisfy((error: unknown) => isSessionStoreError(error) && error.kind === 'unavailable');
    }
    down.disconnect();
  });
});

describe('session stores: the default clock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const stores: Record<string, () => SecureSessionStore> = {
    memory: () => createMemorySessionStore({ keyring, registry }),
    redis: () => createRedisSessionStore({ client: redis, keyring, registry, keyPrefix: `${runPrefix}clock:${randomUUID().slice(0, 8)}:` }),
  };
  for (const [name, make] of Object.entries(stores)) {
    it(`${name}: follows a faked Date installed after the store was made`, async () => {
      const store = make();
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(START);
      const created = await store.create({ tenant: 'acme', userId: 'frank', context });
      if (!created.ok) throw new Error('create failed');
      vi.setSystemTime(START + 15 * 60_000 - 1);
      expect((await store.validate(created.token, context)).valid).toBe(true);
      // The validation moved the idle deadline to START + 30 min - 1 ms.
      vi.setSystemTime(START + 30 * 60_000 - 2);
      expect((await store.validate(created.token, context)).valid).toBe(true);
      vi.setSystemTime(START + 45 * 60_000 - 2);
      expect(await store.validate(created.token, context)).toEqual({ valid: false, reason: 'expired' });
    });
  }
});
