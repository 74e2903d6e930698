import fc from 'fast-check';
import { parseList } from 'structured-headers';
import { describe, expect, it } from 'vitest';
import { rateLimitError, rateLimitHeaders, retryAfterSeconds, type MultiDecision, type RateLimitDecision } from '../../src/ratelimit/index.js';

const rejected = (retryAfterMs: number, resetMs = 60_000): RateLimitDecision => ({ allowed: false, limit: 100, remaining: 0, resetMs, retryAfterMs, reason: 'limited' });
const policy = { name: 'api', limit: 100, windowSeconds: 60 };

describe('rateLimitHeaders', () => {
  it('writes the IETF fields as structured field lists', () => {
    const headers = rateLimitHeaders({ allowed: true, limit: 100, remaining: 42, resetMs: 12_300, retryAfterMs: 0, reason: 'ok' }, policy);
    expect(headers).toEqual({ 'ratelimit-policy': '"api";q=100;w=60', ratelimit: '"api";r=42;t=13' });
    const [item] = parseList(headers.ratelimit!);
    expect(item?.[0]).toBe('api');
    expect(Object.fromEntries(item![1])).toEqual({ r: 42, t: 13 });
  });

  it('takes Retry-After from the real retry time, in whole seconds rounded up, never from the window', () => {
    expect(rateLimitHeaders(rejected(600, 60_000), policy)['retry-after']).toBe('1');
    expect(rateLimitHeaders(rejected(1000), policy)['retry-after']).toBe('1');
    expect(rateLimitHeaders(rejected(1001), policy)['retry-after']).toBe('2');
    expect(rateLimitHeaders(rejected(0), policy)['retry-after']).toBe('1');
    expect(rateLimitHeaders({ ...rejected(0), allowed: true }, policy)['retry-after']).toBeUndefined();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 86_400_000 }), (ms) => {
        const seconds = retryAfterSeconds(rejected(ms));
        expect(seconds * 1000).toBeGreaterThanOrEqual(ms);
        expect((seconds - 1) * 1000).toBeLessThan(ms);
      }),
    );
  });

  it('adds the legacy X-RateLimit fields only when asked, with the reset as epoch seconds', () => {
    expect(Object.keys(rateLimitHeaders(rejected(5000), policy)).some((name) => name.startsWith('x-'))).toBe(false);
    const headers = rateLimitHeaders(rejected(5000, 30_000), policy, { legacy: true, ietf: false, now: () => 1_700_000_000_000 });
    expect(headers).toEqual({ 'retry-after': '5', 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1700000030' });
  });

  it('lists every policy of a multi-limit decision with its own remaining quota', () => {
    const second = { name: 'per-second', limit: 10, windowSeconds: 1 };
    const hour = { name: 'per-hour', limit: 1000, windowSeconds: 3600 };
    const multi: MultiDecision = {
      allowed: true,
      limit: 10,
      remaining: 3,
      resetMs: 700,
      retryAfterMs: 0,
      reason: 'ok',
      limiter: 'per-second',
      decisions: [
        { allowed: true, limit: 10, remaining: 3, resetMs: 700, retryAfterMs: 0, reason: 'ok', limiter: 'per-second' },
        { allowed: true, limit: 1000, remaining: 900, resetMs: 3_000_000, retryAfterMs: 0, reason: 'ok', limiter: 'per-hour' },
      ],
    };
    const headers = rateLimitHeaders(multi, [second, hour]);
    expect(headers['ratelimit-policy']).toBe('"per-second";q=10;w=1, "per-hour";q=1000;w=3600');
    expect(headers.ratelimit).toBe('"per-second";r=3;t=1, "per-hour";r=900;t=3000');
  });
});

describe('rateLimitError', () => {
  it('is 429 RATE_LIMITED with Retry-After for a limit, 503 for an unavailable store, 429 CONCURRENCY_LIMITED for leases', () => {
    expect(rateLimitError({ ...rejected(0), allowed: true })).toBeUndefined();
    const limited = rateLimitError(rejected(2500), { ratelimit: '"api";r=0;t=60' });
    expect(limited).toMatchObject({ code: 'RATE_LIMITED', status: 429, headers: { 'retry-after': '3', ratelimit: '"api";r=0;t=60' } });
    const unavailable = rateLimitError({ ...rejected(4000), reason: 'circuit_open' });
    expect(unavailable).toMatchObject({ code: 'RATE_LIMIT_STORE_UNAVAILABLE', status: 503, headers: { 'retry-after': '4' } });
    expect(rateLimitError(rejected(1000), {}, 'concurrency')).toMatchObject({ code: 'CONCURRENCY_LIMITED', status: 429, headers: { 'retry-after': '1' } });
  });
});
