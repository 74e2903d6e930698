import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { generateApiKey } from './api-key-format.js';
import { createApiKeyVerifier } from './api-key-verifier.js';
import type { ApiKeyVerifierOptions } from './api-key-verifier.js';
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
