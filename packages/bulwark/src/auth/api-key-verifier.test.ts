import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { generateApiKey } from './api-key-format.js';
import { createApiKeyVerifier } from './api-key-verifier.js';
import type { ApiKeyVerification, ApiKeyVerifierOptions } from './api-key-verifier.js';
import type { KeyStore } from './key-store.js';
import { createMemoryKeyStore } from './key-store-memory.js';
import { testClock } from '../../test/auth/key-store.contract.js';
import { createMemoryRevocationBus } from './revocation.js';

const pepper = randomBytes(32);

function setup(overrides: Partial<ApiKeyVerifierOptions> = {}) {
  const clock = testClock();
  const store = createMemoryKeyStore({ pepper, now: clock.now });
  const findByHash = vi.spyOn(store, 'findByHash');
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const verifier = createApiKeyVerifier({ store, pepper, now: clock.now, registry, ...overrides });
  return { clock, store, findByHash, registry, verifier };
}

async function metric(registry: ReturnType<typeof createMetricsRegistry>, name: string, labels: Record<string, string>): Promise<number> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.find((value) => Object.entries(labels).every(([k, v]) => value.labels[k] === v))?.value ?? 0;
}

describe('createApiKeyVerifier', () => {
  it('accepts a valid key and returns its identity, never the key', async () => {
    const { store, verifier } = setup();
    const { key, record } = await store.create({ name: 'ci', tenant: 'acme', scopes: ['deploy'], limits: [{ limit: 10, windowMs: 1000 }] });
    const result = await verifier.verify(key);
    expect(result).toEqual({
      ok: true,
      key: { id: record.id, name: 'ci', tenant: 'acme', env: 'live', scopes: ['deploy'], limits: [{ limit: 10, windowMs: 1000 }], expiresAt: null, signingAlgorithm: null },
    });
    expect(JSON.stringify(result)).not.toContain(key.slice(10));
  });

  it('answers missing for an absent key', async () => {
    const { verifier, findByHash } = setup();
    for (const value of [undefined, null, '']) expect(await verifier.verify(value)).toEqual({ ok: false, reason: 'missing' });
    expect(findByHash).not.toHaveBeenCalled();
  });

  it('rejects malformed keys before any lookup', async () => {
    const { verifier, findByHash, registry } = setup();
    const valid = generateApiKey();
    const hostile = [
      valid.slice(0, -1) + (valid.endsWith('a') ? 'b' : 'a'),
      valid.replace('bw_', 'sk_'),
      valid.slice(0, 15) + 'ѡ' + valid.slice(16),
      valid.slice(0, 15) + '\uFF41' + valid.slice(16),
      `bw_live_${'x'.repeat(10 * 1024)}`,
      ` ${valid}`,
      `${valid}\t`,
      '   ',
      42,
      [valid],
      { key: valid },
    ];
    for (const value of hostile) expect(await verifier.verify(value)).toEqual({ ok: false, reason: 'malformed' });
    expect(findByHash).not.toHaveBeenCalled();
    expect(await metric(registry, 'auth_failures_total', { scheme: 'api_key', reason: 'malformed' })).toBe(hostile.length);
  });

  it('never throws, whatever it is given (property)', async () => {
    const { verifier } = setup();
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (value) => {
        const result = await verifier.verify(value);
        expect(result.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('caches an unknown key briefly, so repeating it does not hammer the store', async () => {
    const { verifier, findByHash, clock, registry } = setup({ cache: { negativeTtlMs: 1000 } });
    const unknown = generateApiKey();
    expect(await verifier.verify(unknown)).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifier.verify(unknown)).toEqual({ ok: false, reason: 'invalid' });
    expect(findByHash).toHaveBeenCalledTimes(1);
    clock.advance(1000);
    await verifier.verify(unknown);
    expect(findByHash).toHaveBeenCalledTimes(2);
    expect(await metric(registry, 'api_key_cache_lookups_total', { result: 'negative_hit' })).toBe(1);
    expect(await metric(registry, 'api_key_cache_lookups_total', { result: 'miss' })).toBe(2);
  });

  it('keeps good keys cached through a flood of garbage keys', async () => {
    const { store, verifier, findByHash } = setup({ cache: { maxSize: 10, negativeMaxSize: 50 } });
    const { key } = await store.create({ name: 'good', tenant: 't' });
    await verifier.verify(key);
    for (let i = 0; i < 2000; i += 1) await verifier.verify(generateApiKey());
    findByHash.mockClear();
    expect((await verifier.verify(key)).ok).toBe(true);
    expect(findByHash).not.toHaveBeenCalled();
  });

  it('evicts the least recently used key when the positive cache is full', async () => {
    const { store, verifier, findByHash } = setup({ cache: { maxSize: 2 } });
    const keys = await Promise.all(['a', 'b', 'c'].map(async (name) => (await store.create({ name, tenant: 't' })).key));
    for (const key of keys) await verifier.verify(key);
    findByHash.mockClear();
    await verifier.verify(keys[2]);
    await verifier.verify(keys[1]);
    expect(findByHash).not.toHaveBeenCalled();
    await verifier.verify(keys[0]);
    expect(findByHash).toHaveBeenCalledTimes(1);
  });

  it('checks expiry on every cache hit', async () => {
    const { store, verifier, clock, findByHash } = setup({ cache: { ttlMs: 60_000 } });
    const { key } = await store.create({ name: 'short', tenant: 't', expiresAt: new Date(clock.now() + 500) });
    expect((await verifier.verify(key)).ok).toBe(true);
    clock.advance(499);
    expect((await verifier.verify(key)).ok).toBe(true);
    clock.advance(1);
    expect(await verifier.verify(key)).toEqual({ ok: false, reason: 'expired' });
    expect(findByHash).toHaveBeenCalledTimes(1);
  });

  it('sees a revocation it was not told about within the cache TTL', async () => {
    const { store, verifier, clock } = setup({ cache: { ttlMs: 5000 } });
    const { key, record } = await store.create({ name: 'k', tenant: 't' });
    expect((await verifier.verify(key)).ok).toBe(true);
    await store.revoke(record.id);
    clock.advance(4999);
    expect((await verifier.verify(key)).ok).toBe(true); // stale, within the documented bound
    clock.advance(1);
    expect(await verifier.verify(key)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('refuses a revoked key at once when the revocation is broadcast', async () => {
    const revocation = createMemoryRevocationBus();
    const { store, verifier } = setup({ revocation, cache: { ttlMs: 60_000 } });
    const { key, record } = await store.create({ name: 'k', tenant: 't' });
    expect((await verifier.verify(key)).ok).toBe(true);
    await store.revoke(record.id);
    await revocation.publish([record.id]);
    expect(await verifier.verify(key)).toEqual({ ok: false, reason: 'revoked' });
    await verifier.close();
  });

  it('drops everything on a resync event', async () => {
    const revocation = createMemoryRevocationBus();
    let emit: ((event: { type: 'resync' }) => void) | undefined;
    const bus = { ...revocation, subscribe: (listener: (event: { type: 'resync' }) => void) => ((emit = listener), () => undefined) };
    const { store, verifier, findByHash } = setup({ revocation: bus as typeof revocation });
    const { key } = await store.create({ name: 'k', tenant: 't' });
    await verifier.verify(key);
    emit?.({ type: 'resync' });
    await verifier.verify(key);
    expect(findByHash).toHaveBeenCalledTimes(2);
  });

  it('accepts the old key of a rotation until its grace period ends', async () => {
    const revocation = createMemoryRevocationBus();
    const { store, verifier, clock } = setup({ revocation });
    const old = await store.create({ name: 'k', tenant: 't' });
    expect((await verifier.verify(old.key)).ok).toBe(true);
    const rotated = await store.rotate(old.record.id, { graceMs: 10_000 });
    if (!rotated.ok) throw new Error('rotate failed');
    await revocation.publish([old.record.id]);
    expect((await verifier.verify(rotated.key)).ok).toBe(true);
    expect((await verifier.verify(old.key)).ok).toBe(true);
    clock.advance(10_000);
    expect(await verifier.verify(old.key)).toEqual({ ok: false, reason: 'expired' });
    expect((await verifier.verify(rotated.key)).ok).toBe(true);
  });

  it('shares one store lookup between concurrent misses for the same key', async () => {
    const { store, verifier, findByHash } = setup();
    const { key } = await store.create({ name: 'k', tenant: 't' });
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(key)));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(findByHash).toHaveBeenCalledTimes(1);
  });

  it('rejects when the store fails, and does not cache the failure', async () => {
    const { store, verifier, findByHash } = setup();
    const { key } = await store.create({ name: 'k', tenant: 't' });
    findByHash.mockRejectedValueOnce(new Error('connection refused'));
    await expect(verifier.verify(key)).rejects.toThrow('connection refused');
    expect((await verifier.verify(key)).ok).toBe(true);
  });

  it('does not cache a lookup that raced with an invalidation', async () => {
    const clock = testClock();
    const store = createMemoryKeyStore({ pepper, now: clock.now });
    const { key, record } = await store.create({ name: 'k', tenant: 't' });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const gated: KeyStore = {
      ...store,
      findByHash: async (hash) => {
        calls += 1;
        const found = await store.findByHash(hash);
        if (calls === 1) await gate;
        return found;
      },
    };
    const verifier = createApiKeyVerifier({ store: gated, pepper, now: clock.now, registry: createMetricsRegistry({ defaultMetrics: false }) });
    const pending = verifier.verify(key);
    verifier.invalidate(record.id);
    release();
    expect((await pending).ok).toBe(true);
    await verifier.verify(key);
    expect(calls).toBe(2);
  });

  it('does not hand a lookup that started before a revocation to a request that arrives after it', async () => {
    const clock = testClock();
    const store = createMemoryKeyStore({ pepper, now: clock.now });
    const revocation = createMemoryRevocationBus();
    const { key, record } = await store.create({ name: 'k', tenant: 't' });
    let markRead: () => void = () => undefined;
    const read = new Promise<void>((resolve) => (markRead = resolve));
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const slow: KeyStore = {
      ...store,
      findByHash: async (hash) => {
        calls += 1;
        const found = await store.findByHash(hash);
        // The first lookup read the row before the revocation, and answers only after it (a slow database).
        if (calls === 1) {
          markRead();
          await gate;
        }
        return found;
      },
    };
    const verifier = createApiKeyVerifier({ store: slow, pepper, now: clock.now, revocation, registry: createMetricsRegistry({ defaultMetrics: false }) });
    const before = verifier.verify(key);
    await read;
    await store.revoke(record.id);
    await revocation.publish([record.id]);
    const after = verifier.verify(key);
    release();
    expect((await before).ok).toBe(true);
    expect(await after).toEqual({ ok: false, reason: 'revoked' });
    expect(calls).toBe(2);
  });

  it('moves keys to the new pepper after a master-key rotation', async () => {
    const oldPepper = randomBytes(32);
    const newPepper = randomBytes(32);
    const store: KeyStore = createMemoryKeyStore({ pepper: oldPepper });
    const { key } = await store.create({ name: 'k', tenant: 't' });
    const registry = createMetricsRegistry({ defaultMetrics: false });
    expect((await createApiKeyVerifier({ store, pepper: newPepper, registry }).verify(key)).ok).toBe(false);
    expect((await createApiKeyVerifier({ store, pepper: newPepper, previousPepper: oldPepper, registry }).verify(key)).ok).toBe(true);
    // Re-hashed under the new pepper: the previous one is no longer needed.
    expect((await createApiKeyVerifier({ store, pepper: newPepper, registry }).verify(key)).ok).toBe(true);
  });

  it('refuses keys of environments it does not serve, without a lookup', async () => {
    const { store, verifier, findByHash } = setup({ allowedEnvs: ['live'] });
    const { key } = await store.create({ name: 'k', tenant: 't', env: 'test' });
    expect(await verifier.verify(key)).toEqual({ ok: false, reason: 'invalid' });
    expect(findByHash).not.toHaveBeenCalled();
  });

  it('reports each successful use to the last-used recorder', async () => {
    const record = vi.fn();
    const { store, verifier, clock } = setup({ lastUsed: { record, flush: async () => undefined, close: async () => undefined, pending: 0 } });
    const created = await store.create({ name: 'k', tenant: 't' });
    await verifier.verify(created.key);
    await verifier.verify(created.key);
    expect(record).toHaveBeenCalledTimes(2);
    expect(record).toHaveBeenLastCalledWith(created.record.id, clock.now());
  });

  it('counts cache hits and misses, and failures by reason', async () => {
    const { store, verifier, registry } = setup();
    const { key, record } = await store.create({ name: 'k', tenant: 't' });
    await verifier.verify(key);
    await verifier.verify(key);
    await store.revoke(record.id);
    verifier.invalidate(record.id);
    await verifier.verify(key);
    expect(await metric(registry, 'api_key_cache_lookups_total', { result: 'hit' })).toBe(1);
    expect(await metric(registry, 'api_key_cache_lookups_total', { result: 'miss' })).toBe(2);
    expect(await metric(registry, 'auth_failures_total', { scheme: 'api_key', reason: 'revoked' })).toBe(1);
  });

  it('validates its options once, at construction', () => {
    const store = createMemoryKeyStore({ pepper });
    expect(() => createApiKeyVerifier({ store, pepper: Buffer.alloc(16) })).toThrow(/pepper must be a Buffer of at least 32 bytes/);
    expect(() => createApiKeyVerifier({ store, pepper, previousPepper: Buffer.alloc(1) })).toThrow(/previousPepper/);
    expect(() => createApiKeyVerifier({ store, pepper, cache: { maxSize: 0 } })).toThrow(/cache.maxSize must be an integer from 1/);
    expect(() => createApiKeyVerifier({ store, pepper, cache: { ttlMs: 1.5 } })).toThrow(/cache.ttlMs/);
    expect(() => createApiKeyVerifier({ store, pepper, allowedEnvs: [] })).toThrow(/allowedEnvs/);
    expect(() => createApiKeyVerifier({ store: {} as KeyStore, pepper })).toThrow(/store must be a KeyStore/);
  });
});

describe('createApiKeyVerifier stale-if-error', () => {
  const outage = () => new Error('connection refused');
  const recordingLogger = () => ({ error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() });

  it('serves a cached key past its TTL while the store fails, counts it as stale and says so once', async () => {
    const logger = recordingLogger();
    const { store, verifier, findByHash, clock, registry } = setup({ logger });
    const { key } = await store.create({ name: 'k', tenant: 't' });
    expect((await verifier.verify(key)).ok).toBe(true);
    clock.advance(5000);
    findByHash.mockRejectedValue(outage());
    expect((await verifier.verify(key)).ok).toBe(true);
    clock.advance(60_000);
    expect((await verifier.verify(key)).ok).toBe(true);
    expect(await metric(registry, 'api_key_cache_lookups_total', { result: 'stale' })).toBe(2);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]?.[1]).toMatch(/stale-if-error/);
  });

  it('does not ask a failing store once per request: stale entries are served without a lookup for 1 s', async () => {
    const { store, verifier, findByHash, clock } = setup();
    const { key } = await store.create({ name: 'k', tenant: 't' });
    await verifier.verify(key);
    clock.advance(5000);
    findByHash.mockClear();
    findByHash.mockRejectedValue(outage());
    for (let i = 0; i < 10; i += 1) expect((await verifier.verify(key)).ok).toBe(true);
    expect(findByHash).toHaveBeenCalledTimes(1);
    clock.advance(999);
    await verifier.verify(key);
    expect(findByHash).toHaveBeenCalledTimes(1);
    clock.advance(1);
    await verifier.verify(key);
    expect(findByHash).toHaveBeenCalledTimes(2);
  });

  it('goes back to the store\'s answers when it recovers, and logs the recovery', async () => {
    const logger = recordingLogger();
    const { store, verifier, findByHash, clock, registry } = setup({ logger });
    const { key, record } = await store.create({ name: 'k', tenant: 't' });
    await verifier.verify(key);
    clock.advance(5000);
    findByHash.mockRejectedValueOnce(outage());
    expect((await verifier.verify(key)).ok).toBe(true);
    // Revoked while this instance could not hear about it; the store tells it on the next lookup.
    await store.revoke(record.id);
    clock.advance(1000);
    expect(await verifier.verify(key)).toEqual({ ok: false, reason: 'revoked' });
    expect(logger.info).toHaveBeenCalledWith({}, expect.stringMatching(/answers again/));
    expect(await metric(registry, 'api_key_cache_lookups_total', { result: 'stale' })).toBe(1);
  });

  it('never serves a stale key that a revocation broadcast dropped: 503 (rejects) while the store fails', async () => {
    const revocation = createMemoryRevocationBus();
    const { store, verifier, findByHash, clock } = setup({ revocation });
    const { key, record } = await store.create({ name: 'k', tenant: 't' });
    await verifier.verify(key);
    clock.advance(5000);
    findByHash.mockRejectedValue(outage());
    expect((await verifier.verify(key)).ok).toBe(true);
    await revocation.publish([record.id]);
    await expect(verifier.verify(key)).rejects.toThrow('connection refused');
    await verifier.close();
  });

  it('checks expiry on every stale hit', async () => {
    const { store, verifier, findByHash, clock } = setup();
    const { key } = await store.create({ name: 'k', tenant: 't', expiresAt: new Date(clock.now() + 7000) });
    await verifier.verify(key);
    clock.advance(5000);
    findByHash.mockRejectedValue(outage());
    expect((await verifier.verify(key)).ok).toBe(true);
    clock.advance(2000);
    expect(await verifier.verify(key)).toEqual({ ok: false, reason: 'expired' });
  });

  it('never serves an unknown key stale, nor a found key past staleIfErrorMs', async () => {
    const { store, verifier, findByHash, clock } = setup({ cache: { ttlMs: 5000, staleIfErrorMs: 10_000, negativeTtlMs: 1000 } });
    const { key } = await store.create({ name: 'k', tenant: 't' });
    const unknown = generateApiKey();
    expect(await verifier.verify(unknown)).toEqual({ ok: false, reason: 'invalid' });
    await verifier.verify(key);
    findByHash.mockRejectedValue(outage());
    clock.advance(1000);
    await expect(verifier.verify(unknown)).rejects.toThrow('connection refused');
    clock.advance(13_999);
    expect((await verifier.verify(key)).ok).toBe(true);
    clock.advance(1);
    await expect(verifier.verify(key)).rejects.toThrow('connection refused');
  });

  it('waits at most refreshTimeoutMs for a store that hangs, then serves stale at once; the late answer refreshes the cache', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { store, verifier, findByHash, clock, registry } = setup({ refreshTimeoutMs: 500 });
      const { key, record } = await store.create({ name: 'k', tenant: 't' });
      await verifier.verify(key);
      clock.advance(5000);
      let answer: (found: Awaited<ReturnType<KeyStore['findByHash']>>) => void = () => undefined;
      findByHash.mockClear();
      findByHash.mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)));
      let first: ApiKeyVerification | undefined;
      const waiting = verifier.verify(key).then((result) => (first = result));
      const joined = verifier.verify(key);
      await vi.advanceTimersByTimeAsync(499);
      expect(first).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      await waiting;
      expect(first?.ok).toBe(true);
      expect((await joined).ok).toBe(true);
      // The lookup is still running: later requests do not wait for it, nor start another.
      expect((await verifier.verify(key)).ok).toBe(true);
      expect(findByHash).toHaveBeenCalledTimes(1);
      expect(await metric(registry, 'api_key_cache_lookups_total', { result: 'stale' })).toBe(3);
      // The store answers, late: the key was revoked. The cache takes the answer.
      await store.revoke(record.id);
      answer(await store.findByHash(findByHash.mock.calls[0]![0]));
      await vi.advanceTimersByTimeAsync(0);
      expect(await verifier.verify(key)).toEqual({ ok: false, reason: 'revoked' });
      expect(await metric(registry, 'api_key_cache_lookups_total', { result: 'hit' })).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('validates refreshTimeoutMs and staleIfErrorMs', () => {
    const store = createMemoryKeyStore({ pepper });
    expect(() => createApiKeyVerifier({ store, pepper, refreshTimeoutMs: 0 })).toThrow(/refreshTimeoutMs must be an integer from 1 to 60000/);
    expect(() => createApiKeyVerifier({ store, pepper, cache: { staleIfErrorMs: -1 } })).toThrow(/cache.staleIfErrorMs/);
  });
});
