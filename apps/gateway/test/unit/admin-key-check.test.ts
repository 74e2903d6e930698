import { createMemoryRevocationBus, type ApiKeyRecord } from 'bulwark/auth';
import { describe, expect, it, vi } from 'vitest';
import { createAdminKeyCheck } from '../../src/console/admin-key-check.js';

describe('the admin key check of console sessions', () => {
  const record = (overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
    id: 'key_a',
    name: 'a',
    tenant: 't',
    env: 'test',
    scopes: ['admin'],
    displayPrefix: 'bw_test_abc',
    limits: [],
    createdAt: new Date(0),
    expiresAt: null,
    lastUsedAt: null,
    revokedAt: null,
    rotatedFrom: null,
    rotatedTo: null,
    graceUntil: null,
    signingAlgorithm: null,
    ...overrides,
  });

  it('caches the answer, and forgets it when the revocation bus says the key changed', async () => {
    let current = record();
    const get = vi.fn(async () => current);
    const revocation = createMemoryRevocationBus();
    const check = createAdminKeyCheck({ keyStore: { get }, revocation, scope: 'admin' });
    expect(await check.isUsable('key_a')).toBe(true);
    current = record({ revokedAt: new Date(1) });
    expect(await check.isUsable('key_a'), 'cached').toBe(true);
    await revocation.publish(['key_a']);
    expect(await check.isUsable('key_a')).toBe(false);
    expect(get).toHaveBeenCalledTimes(2);
    check.close();
  });

  it('refuses a key without the admin scope, an unknown key, and an expired one without waiting for the cache', async () => {
    let now = 1_000_000;
    const records: Record<string, ApiKeyRecord> = { key_reader: record({ id: 'key_reader', scopes: ['orders:read'] }), key_soon: record({ id: 'key_soon', expiresAt: new Date(now + 1000) }) };
    const check = createAdminKeyCheck({ keyStore: { get: async (id) => records[id] }, revocation: createMemoryRevocationBus(), scope: 'admin', now: () => now });
    expect(await check.isUsable('key_reader')).toBe(false);
    expect(await check.isUsable('key_unknown')).toBe(false);
    expect(await check.isUsable('key_soon')).toBe(true);
    now += 1500;
    expect(await check.isUsable('key_soon')).toBe(false);
    check.close();
  });
});
