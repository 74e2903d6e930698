import { describe, expect, it } from 'vitest';
import { buildUpstreamHeaders, filterResponseHeaders } from '../../src/proxy/forward-headers.js';

const base = {
  requestId: 'req-1',
  clientIp: '203.0.113.9',
  peerIp: '10.0.0.2',
  peerTrusted: false,
  proto: 'https' as const,
  identity: { method: 'apiKey' as const, keyId: 'key_abc', tenant: 'acme', scopes: ['orders:read', 'orders:write'] },
  consumed: new Set(['x-api-key']),
  dropAuthorization: true,
  host: 'upstream.internal:8080',
};

describe('headers sent upstream', () => {
  it('drops hop-by-hop headers, the ones Connection names, consumed credentials and client identity headers', () => {
    const headers = buildUpstreamHeaders(
      {
        connection: 'keep-alive, x-secret-hop',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        trailer: 'x',
        'transfer-encoding': 'chunked',
        upgrade: 'h2c',
        'proxy-authorization': 'Basic abc',
        'proxy-anything': '1',
        'x-secret-hop': 'hop',
        'x-api-key': 'bw_live_secret',
        authorization: 'Bearer bw_live_secret',
        'x-bulwark-key-id': 'forged',
        'x-bulwark-tenant': 'forged',
        'x-bulwark-scopes': 'admin',
        'x-bulwark-anything': 'forged',
        'content-type': 'application/json',
        accept: 'application/json',
      },
      base,
    );
    expect(Object.keys(headers).sort()).toEqual(
      ['accept', 'content-type', 'host', 'x-bulwark-key-id', 'x-bulwark-scopes', 'x-bulwark-tenant', 'x-forwarded-for', 'x-forwarded-proto', 'x-real-ip', 'x-request-id'].sort(),
    );
    expect(headers).toMatchObject({ 'x-bulwark-key-id': 'key_abc', 'x-bulwark-tenant': 'acme', 'x-bulwark-scopes': 'orders:read orders:write', 'x-request-id': 'req-1', host: 'upstream.internal:8080' });
  });

  it('replaces a forged X-Forwarded-* chain from an untrusted peer and extends a trusted one', () => {
    const forged = buildUpstreamHeaders({ host: 'api.example.com', 'x-forwarded-for': '1.2.3.4', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http', forwarded: 'for=1.2.3.4', 'x-real-ip': '1.2.3.4' }, base);
    expect(forged).toMatchObject({ 'x-forwarded-for': '10.0.0.2', 'x-forwarded-host': 'api.example.com', 'x-forwarded-proto': 'https', 'x-real-ip': '203.0.113.9' });
    expect(forged.forwarded).toBeUndefined();

    const trusted = buildUpstreamHeaders({ host: 'lb.internal', 'x-forwarded-for': '203.0.113.9', 'x-forwarded-host': 'api.example.com', forwarded: 'for=203.0.113.9' }, { ...base, peerTrusted: true });
    expect(trusted).toMatchObject({ 'x-forwarded-for': '203.0.113.9, 10.0.0.2', 'x-forwarded-host': 'api.example.com', forwarded: 'for=203.0.113.9' });
  });

  it('keeps Authorization when the route did not consume it, and sets no identity on public routes', () => {
    const headers = buildUpstreamHeaders({ authorization: 'Bearer upstream-token', 'x-bulwark-key-id': 'forged' }, { ...base, dropAuthorization: false, identity: undefined, consumed: new Set() });
    expect(headers.authorization).toBe('Bearer upstream-token');
    expect(headers['x-bulwark-key-id']).toBeUndefined();
  });

  it('filters hop-by-hop and gateway-owned headers from the response, keeping the rest', () => {
    const out = filterResponseHeaders(
      { connection: 'close, x-hop', 'x-hop': '1', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', 'set-cookie': ['a=1', 'b=2'], 'content-security-policy': 'default-src *', 'x-request-id': 'other', etag: '"1"' },
      new Set(['content-security-policy', 'x-request-id']),
    );
    expect(out).toEqual({ 'set-cookie': ['a=1', 'b=2'], etag: '"1"' });
  });
});
