import { describe, expect, it } from 'vitest';
import type { ApiKeyRecord } from '../api/types.js';
import { formatDuration, formatPercent, formatRate, formatRelative, keyStatus, localInputToIso, parseScopes } from './format.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');

function record(overrides: Partial<ApiKeyRecord>): ApiKeyRecord {
  return {
    id: 'key_1',
    name: 'ci',
    tenant: 'acme',
    env: 'live',
    scopes: [],
    displayPrefix: 'bw_live_abc',
    limits: [],
    createdAt: '2026-01-01T00:00:00Z',
    expiresAt: null,
    lastUsedAt: null,
    revokedAt: null,
    rotatedFrom: null,
    rotatedTo: null,
    graceUntil: null,
    signingAlgorithm: null,
    ...overrides,
  };
}

describe('keyStatus', () => {
  it('follows the verifier: revoked, then expired, then a rotation grace', () => {
    expect(keyStatus(record({}), NOW)).toBe('active');
    expect(keyStatus(record({ revokedAt: '2026-02-01T00:00:00Z', expiresAt: '2026-01-02T00:00:00Z' }), NOW)).toBe('revoked');
    expect(keyStatus(record({ expiresAt: '2026-03-01T12:00:00Z' }), NOW)).toBe('expired');
    expect(keyStatus(record({ expiresAt: '2026-03-01T12:00:01Z' }), NOW)).toBe('active');
    expect(keyStatus(record({ rotatedTo: 'key_2', graceUntil: '2026-03-02T00:00:00Z' }), NOW)).toBe('rotating');
    expect(keyStatus(record({ rotatedTo: 'key_2', graceUntil: '2026-03-01T11:00:00Z' }), NOW)).toBe('expired');
  });
});

describe('durations and rates', () => {
  it('says durations in the largest unit that reads well', () => {
    expect([850, 45_000, 900_000, 9_000_000, 86_400_000, 604_800_000].map(formatDuration)).toEqual(['850 ms', '45 s', '15 min', '2 h 30 min', '24 h', '7 d']);
    expect(formatDuration(-1)).toBe('—');
  });

  it('says times relative to now both ways', () => {
    expect(formatRelative('2026-03-01T12:15:00Z', NOW)).toBe('in 15 min');
    expect(formatRelative('2026-03-01T09:00:00Z', NOW)).toBe('3 h ago');
    expect(formatRelative('2026-03-01T12:00:02Z', NOW)).toBe('just now');
    expect(formatRelative(null, NOW)).toBe('—');
  });

  it('gives rates and shares a precision that suits their size', () => {
    expect([0, 0.25, 3.44, 120.4, null].map(formatRate)).toEqual(['0', '0.25', '3.4', '120', '—']);
    expect([0, 0.015, 0.5].map(formatPercent)).toEqual(['0 %', '1.5 %', '50 %']);
  });
});

describe('form values', () => {
  it('splits scopes on spaces and commas, without blanks or repeats', () => {
    expect(parseScopes(' orders:read, orders:write\norders:read ,, admin ')).toEqual(['orders:read', 'orders:write', 'admin']);
    expect(parseScopes('   ')).toEqual([]);
  });

  it('turns a datetime-local value into ISO 8601, and an empty or invalid one into nothing', () => {
    expect(localInputToIso('2026-03-01T12:30')).toBe(new Date('2026-03-01T12:30').toISOString());
    expect(localInputToIso('')).toBeUndefined();
    expect(localInputToIso('not a date')).toBeUndefined();
  });
});
