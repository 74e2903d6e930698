import { describe, expect, it } from 'vitest';
import { createClientIpResolver } from '../../src/http/index.js';
import { keyBy, type KeyContext } from '../../src/ratelimit/index.js';

const context = (overrides: Partial<KeyContext<{ tenant?: string }>> = {}): KeyContext<{ tenant?: string }> => ({
  headers: {},
  remoteAddress: '198.51.100.7',
  method: 'GET',
  route: '/users/:id',
  request: {},
  ...overrides,
});

describe('keyBy', () => {
  it('ip: ignores X-Forwarded-For from an untrusted peer (a spoofed header cannot pick the key)', () => {
    const key = keyBy.ip();
    expect(key(context({ headers: { 'x-forwarded-for': '203.0.113.9' } }))).toBe('ip:198.51.100.7');
  });

  it('ip: reads X-Forwarded-For through trusted proxies only', () => {
    const key = keyBy.ip({ trustedProxies: ['10.0.0.0/8'] });
    expect(key(context({ remoteAddress: '10.1.2.3', headers: { 'x-forwarded-for': '1.1.1.1, 203.0.113.9, 10.0.0.5' } }))).toBe('ip:203.0.113.9');
    expect(keyBy.ip(createClientIpResolver({ hops: 1 }))(context({ remoteAddress: '10.1.2.3', headers: { 'x-forwarded-for': '203.0.113.10' } }))).toBe('ip:203.0.113.10');
  });

  it('ip: groups IPv6 by /56 so rotating addresses inside a customer prefix stays one key', () => {
    const key = keyBy.ip();
    const a = key(context({ remoteAddress: '2001:db8:ab:cd12::1' }));
    const b = key(context({ remoteAddress: '2001:db8:ab:cdff:ffff::9' }));
    const other = key(context({ remoteAddress: '2001:db8:ab:ce00::1' }));
    expect(a).toBe('ip:2001:db8:ab:cd00::/56');
    expect(b).toBe(a);
    expect(other).not.toBe(a);
    expect(key(context({ remoteAddress: '::ffff:198.51.100.7' }))).toBe('ip:198.51.100.7');
  });

  it('apiKey: hashes the key, never exposing it, and understands Bearer', () => {
    const fromHeader = keyBy.apiKey()(context({ headers: { 'x-api-key': 'bw_live_secretsecret' } }));
    expect(fromHeader).toMatch(/^ak:[A-Za-z0-9_-]{22}$/);
    expect(fromHeader).not.toContain('secret');
    const bearer = keyBy.apiKey({ header: 'Authorization' });
    expect(bearer(context({ headers: { authorization: 'Bearer bw_live_secretsecret' } }))).toBe(fromHeader);
    expect(bearer(context({ headers: { authorization: 'Basic dXNlcjpwYXNz' } }))).toBeUndefined();
    expect(keyBy.apiKey()(context())).toBeUndefined();
    expect(() => keyBy.apiKey({ header: 'bad header' })).toThrow(/header must be an HTTP header name/);
  });

  it('tenant, header and route tag their keys so different sources cannot collide', () => {
    const tenant = keyBy.tenant<{ tenant?: string }>((request) => request.tenant);
    expect(tenant(context({ request: { tenant: '198.51.100.7' } }))).toBe('t:198.51.100.7');
    expect(tenant(context())).toBeUndefined();
    expect(keyBy.header('X-Client-Id')(context({ headers: { 'x-client-id': 'abc' } }))).toBe('h:x-client-id:abc');
    expect(keyBy.header('x-multi')(context({ headers: { 'x-multi': ['a', 'b'] as unknown as string } }))).toBe('h:x-multi:a,b');
    expect(keyBy.route()(context())).toBe('r:GET /users/:id');
    expect(keyBy.route()(context({ route: undefined }))).toBeUndefined();
  });

  it('first and compose combine sources', () => {
    const either = keyBy.first(keyBy.apiKey(), keyBy.ip());
    expect(either(context())).toBe('ip:198.51.100.7');
    expect(either(context({ headers: { 'x-api-key': 'k' } }))).toMatch(/^ak:/);
    const perRouteAndIp = keyBy.compose(keyBy.route(), keyBy.ip());
    expect(perRouteAndIp(context())).toBe('r:GET /users/:id|ip:198.51.100.7');
    expect(keyBy.compose(keyBy.route(), keyBy.apiKey())(context())).toBeUndefined();
    expect(() => keyBy.first()).toThrow(/key sources must be functions/);
    expect(() => keyBy.tenant('nope' as never)).toThrow(TypeError);
  });
});
