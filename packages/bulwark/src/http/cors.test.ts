import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { createCorsPolicy } from './cors.js';

const newPolicy = (options: Partial<Parameters<typeof createCorsPolicy>[0]> = {}) =>
  createCorsPolicy({ origins: ['https://example.com', 'https://app.example.com:8443'], registry: createMetricsRegistry({ defaultMetrics: false }), ...options });

describe('createCorsPolicy', () => {
  it('grants an exact origin with precomputed headers and Vary: Origin', () => {
    const cors = newPolicy({ credentials: true });
    expect(cors.actual('https://example.com')).toEqual({
      allowed: true,
      headers: {
        'Access-Control-Allow-Origin': 'https://example.com',
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Expose-Headers': 'X-Request-ID, Retry-After, RateLimit, RateLimit-Policy',
        Vary: 'Origin',
      },
    });
    // The same frozen object every time: nothing is built per request.
    expect(cors.actual('https://example.com')).toBe(cors.actual('https://example.com'));
    expect(Object.isFrozen(cors.actual('https://example.com').headers)).toBe(true);
  });

  it('refuses look-alike origins', () => {
    const cors = newPolicy();
    const attacks = [
      'https://example.com.evil.com',
      'https://evil-example.com',
      'https://evilexample.com',
      'https://example.co',
      'https://example.com.',
      'http://example.com',
      'https://sub.example.com',
      'https://app.example.com',
      'https://app.example.com:443',
      'https://example.com:8443',
      'https://example.com/',
      'https://example.com/path',
      'https://user@example.com',
      'https://example.com@evil.com',
      'https://evil.com#@example.com',
      'https://exa\tmple.com',
      'https://example.com\\@evil.com',
      ' https://example.com',
      'https://example.com%2f.evil.com',
      'file://example.com',
      'javascript://example.com',
    ];
    for (const origin of attacks) expect(cors.actual(origin).allowed, origin).toBe(false);
  });

  it('normalises case and default ports the way browsers serialise origins', () => {
    const cors = newPolicy();
    expect(cors.actual('HTTPS://EXAMPLE.COM')).toMatchObject({ allowed: true, headers: { 'Access-Control-Allow-Origin': 'https://example.com' } });
    expect(cors.actual('https://example.com:443').allowed).toBe(true);
    expect(cors.actual('https://APP.example.com:8443').allowed).toBe(true);
  });

  it('refuses the null origin and says why, always with Vary: Origin', () => {
    const cors = newPolicy();
    expect(cors.actual('null')).toEqual({ allowed: false, reason: 'null-origin', headers: { Vary: 'Origin' } });
    expect(cors.actual('https://evil.com')).toEqual({ allowed: false, reason: 'origin-not-allowed', headers: { Vary: 'Origin' } });
    expect(cors.actual('not an origin')).toMatchObject({ reason: 'malformed-origin', headers: { Vary: 'Origin' } });
    expect(cors.actual(undefined)).toMatchObject({ reason: 'no-origin', headers: { Vary: 'Origin' } });
  });

  it('answers preflights: method and headers must be allowed', () => {
    const cors = newPolicy({ methods: ['GET', 'POST'], allowedHeaders: ['Content-Type', 'X-Api-Key'], maxAgeSeconds: 300 });
    expect(cors.preflight('https://example.com', 'POST', 'content-type, x-api-key')).toEqual({
      allowed: true,
      headers: {
        'Access-Control-Allow-Origin': 'https://example.com',
        'Access-Control-Allow-Methods': 'GET, POST',
        'Access-Control-Allow-Headers': 'Content-Type, X-Api-Key',
        'Access-Control-Max-Age': '300',
        Vary: 'Origin',
      },
    });
    expect(cors.preflight('https://example.com', 'DELETE', undefined)).toMatchObject({ allowed: false, reason: 'method-not-allowed' });
    expect(cors.preflight('https://example.com', undefined, undefined)).toMatchObject({ allowed: false, reason: 'missing-request-method' });
    expect(cors.preflight('https://example.com', 'POST', 'content-type, x-evil')).toMatchObject({ allowed: false, reason: 'header-not-allowed' });
    expect(cors.preflight('https://example.com', 'POST', ['Content-Type', 'X-API-KEY'])).toMatchObject({ allowed: true });
    expect(cors.preflight('https://example.com', 'post', '')).toMatchObject({ allowed: true });
    expect(cors.preflight('https://evil.com', 'POST', undefined)).toMatchObject({ allowed: false, reason: 'origin-not-allowed' });
    expect(cors.preflight('https://example.com', 'POST', Array(100).fill('content-type').join(','))).toMatchObject({ reason: 'header-not-allowed' });
  });

  it('allows localhost ports in development only for the listed ports', () => {
    const cors = newPolicy({ development: { localhostPorts: [3000, 5173] } });
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1:5173', 'http://[::1]:3000', 'http://LOCALHOST:3000']) expect(cors.actual(origin).allowed, origin).toBe(true);
    for (const origin of ['http://localhost:3001', 'https://localhost:3000', 'http://localhost', 'http://localhost.evil.com:3000', 'http://127.0.0.2:3000']) {
      expect(cors.actual(origin).allowed, origin).toBe(false);
    }
    expect(newPolicy().actual('http://localhost:3000').allowed).toBe(false);
  });

  it('supports "*" without credentials only', () => {
    const cors = createCorsPolicy({ origins: ['*'], registry: createMetricsRegistry({ defaultMetrics: false }) });
    expect(cors.actual('https://anything.example')).toMatchObject({ allowed: true, headers: { 'Access-Control-Allow-Origin': '*' } });
    expect(cors.actual('null').allowed).toBe(false);
    expect(() => createCorsPolicy({ origins: ['*'], credentials: true })).toThrow(/credentials/);
  });

  it('validates configuration once, naming the option', () => {
    for (const origin of ['https://*.example.com', 'example.com', 'https://example.com/app', 'null', 'https://user:pw@example.com', '*.example.com', 'ftp://example.com']) {
      expect(() => createCorsPolicy({ origins: [origin] }), origin).toThrow(/origins/);
    }
    expect(() => createCorsPolicy({ origins: ['https://example.com', '*'] })).toThrow(/origins/);
    expect(() => createCorsPolicy({ origins: ['https://example.com'], methods: ['GET\r\nX-Evil: 1'] })).toThrow(/methods/);
    expect(() => createCorsPolicy({ origins: ['https://example.com'], allowedHeaders: ['a b'] })).toThrow(/allowedHeaders/);
    expect(() => createCorsPolicy({ origins: ['https://example.com'], maxAgeSeconds: 100_000 })).toThrow(/maxAgeSeconds/);
    expect(() => createCorsPolicy({ origins: ['https://example.com'], development: { localhostPorts: [0] } })).toThrow(/localhostPorts/);
    // A trailing slash in configuration is tolerated and normalised.
    expect(createCorsPolicy({ origins: ['https://Example.com/'], registry: createMetricsRegistry({ defaultMetrics: false }) }).origins).toEqual(['https://example.com']);
  });

  it('counts rejections by reason, but not requests without an Origin', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const cors = createCorsPolicy({ origins: ['https://example.com'], registry });
    cors.actual('https://evil.com');
    cors.actual('null');
    cors.actual(undefined);
    cors.preflight('https://example.com', 'TRACE', undefined);
    const text = await registry.metrics();
    expect(text).toContain('cors_rejected_total{reason="origin-not-allowed"} 1');
    expect(text).toContain('cors_rejected_total{reason="null-origin"} 1');
    expect(text).toContain('cors_rejected_total{reason="method-not-allowed"} 1');
    expect(text).not.toContain('no-origin');
  });

  it('grants only listed origins, whatever string arrives (property)', () => {
    const cors = newPolicy();
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.webUrl().map((url) => new URL(url).origin)), (origin) => {
        const decision = cors.actual(origin);
        if (decision.allowed) expect(['https://example.com', 'https://app.example.com:8443']).toContain(decision.headers['Access-Control-Allow-Origin']);
      }),
    );
  });
});
