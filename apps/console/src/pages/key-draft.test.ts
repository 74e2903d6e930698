import { describe, expect, it } from 'vitest';
import { EMPTY_DRAFT, inputOf } from './key-draft.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('inputOf', () => {
  it('sends only what was filled in, trimmed', () => {
    expect(inputOf({ ...EMPTY_DRAFT, name: ' ci ', tenant: 'acme', scopes: 'orders:read orders:write' }, NOW)).toEqual({
      ok: true,
      input: { name: 'ci', tenant: 'acme', env: 'live', scopes: ['orders:read', 'orders:write'] },
    });
  });

  it('turns limit rows into { limit, windowMs } and the signing choice into the API shape', () => {
    const built = inputOf(
      { ...EMPTY_DRAFT, name: 'ci', tenant: 'acme', env: 'test', expires: '2027-01-01T00:00', limits: [{ id: 1, limit: '250', windowMs: '60000' }], signing: 'ed25519', publicKey: ' MCowBQYDK2VwAyEA ' },
      NOW,
    );
    expect(built).toEqual({
      ok: true,
      input: { name: 'ci', tenant: 'acme', env: 'test', limits: [{ limit: 250, windowMs: 60_000 }], expiresAt: new Date('2027-01-01T00:00').toISOString(), signing: { algorithm: 'ed25519', publicKey: 'MCowBQYDK2VwAyEA' } },
    });
  });

  it('names every field that keeps the form from being sent', () => {
    const built = inputOf({ ...EMPTY_DRAFT, expires: '2020-01-01T00:00', limits: [{ id: 1, limit: '1.5', windowMs: '1000' }], signing: 'ed25519' }, NOW);
    expect(built.ok).toBe(false);
    if (!built.ok) expect(built.errors.map((error) => error.path)).toEqual(['name', 'tenant', 'expiresAt', 'limits.0.limit', 'signing']);
  });
});
