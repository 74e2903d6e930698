import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestGateway, type TestGateway } from '../support/gateway.js';
import { assertSafe } from '../support/security-suite.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** The admin API on a real database (embedded PGlite): changes and their audit entries commit together. */

let upstream: TestUpstream;
let gateway: TestGateway;
let admin: string;
let adminId: string;

beforeAll(async () => {
  upstream = await startUpstream();
  gateway = await startTestGateway({
    database: { memory: true },
    config: {
      upstreams: { api: { url: upstream.url, breaker: { failureThreshold: 3 } } },
      routes: [{ name: 'api', match: { prefix: '/api' }, upstream: 'api', auth: { type: 'apiKey', scopes: ['orders'] }, rateLimits: [{ name: 'api-per-key', limit: 3, window: '1h', by: 'apiKey' }] }],
    },
  });
  ({ key: admin, id: adminId } = await gateway.createKey(['admin']));
}, 120_000);
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

const call = async (method: string, path: string, body?: unknown, key = admin) => {
  const response = await send(`${gateway.url}/admin${path}`, {
    method,
    headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assertSafe(response, `${method} ${path}`);
  return response;
};

describe('admin API', () => {
  it('requires an API key with the admin scope, and audits the refusals', async () => {
    expect((await send(`${gateway.url}/admin/keys`)).status).toBe(401);
    const { key, id } = await gateway.createKey(['orders']);
    const refused = await call('GET', '/keys', undefined, key);
    expect(refused.status).toBe(403);
    expect(refused.json().code).toBe('INSUFFICIENT_SCOPE');
    const audit = (await call('GET', `/audit?actor=${id}&outcome=denied`)).json<{ entries: { action: string }[] }>();
    expect(audit.entries.map((entry) => entry.action)).toContain('api_key.list');
  });

  it('creates, lists, rotates and revokes keys; every change is in the audit log with its actor', async () => {
    const created = await call('POST', '/keys', { name: 'ci', tenant: 'acme', scopes: ['orders'] });
    expect(created.status).toBe(201);
    const { key, record } = created.json<{ key: string; record: { id: string; scopes: string[] } }>();
    expect(record.scopes).toEqual(['orders']);
    expect((await send(`${gateway.url}/api/x`, { headers: { 'x-api-key': key } })).status).toBe(200);

    const listed = await call('GET', '/keys?tenant=acme');
    expect(listed.text).toContain(record.id);
    expect(listed.text).not.toContain(key);

    const rotated = await call('POST', `/keys/${record.id}/rotate`, { graceMs: 60_000 });
    expect(rotated.status).toBe(200);
    const next = rotated.json<{ key: string; record: { id: string } }>();
    expect((await send(`${gateway.url}/api/x`, { headers: { 'x-api-key': next.key } })).status).toBe(200);
    expect((await send(`${gateway.url}/api/x`, { headers: { 'x-api-key': key } })).status, 'old key in its grace period').toBe(200);

    const revoked = await call('POST', `/keys/${next.record.id}/revoke`);
    expect(revoked.status).toBe(200);
    for (const each of [key, next.key]) {
      const refused = await send(`${gateway.url}/api/x`, { headers: { 'x-api-key': each } });
      expect(refused.status).toBe(401);
    }

    const audit = (await call('GET', `/audit?actor=${adminId}`)).json<{ entries: { action: string; target: string; outcome: string }[] }>();
    const actions = audit.entries.map((entry) => `${entry.action} ${entry.outcome}`);
    expect(actions).toEqual(expect.arrayContaining(['api_key.create success', 'api_key.rotate success', 'api_key.revoke success']));
    expect(JSON.stringify(audit)).not.toContain(key);
    expect((await call('POST', '/audit/verify')).json()).toMatchObject({ ok: true });
  });

  it('validates admin input (422) and answers unknown keys with 404', async () => {
    const invalid = await call('POST', '/keys', { name: '', tenant: 'acme', scopes: ['bad scope!'], surprise: 1 });
    expect(invalid.status).toBe(422);
    expect((await call('POST', '/keys/key_doesnotexist/revoke')).status).toBe(404);
    const polluted = await send(`${gateway.url}/admin/keys`, { method: 'POST', headers: { 'x-api-key': admin, 'content-type': 'application/json' }, body: '{"__proto__":{"admin":true}}' });
    expect(polluted.status).toBe(400);
  });

  it('opens and closes an upstream breaker by hand (audited)', async () => {
    const { key } = await gateway.createKey(['orders']);
    expect((await call('POST', '/breakers/api/open')).json<{ breaker: { state: string } }>().breaker.state).toBe('open');
    const refused = await send(`${gateway.url}/api/x`, { headers: { 'x-api-key': key } });
    expect(refused.status).toBe(503);
    expect(refused.json().code).toBe('UPSTREAM_UNAVAILABLE');
    expect((await call('POST', '/breakers/api/close')).json<{ breaker: { state: string } }>().breaker.state).toBe('closed');
    expect((await send(`${gateway.url}/api/x`, { headers: { 'x-api-key': key } })).status).toBe(200);
    expect((await call('GET', '/breakers')).json<{ breakers: Record<string, unknown> }>().breakers).toHaveProperty('api');
    expect((await call('GET', '/audit?action=breaker.open')).json<{ entries: unknown[] }>().entries).toHaveLength(1);
  });

  it('inspects and resets a rate-limit key', async () => {
    const { key, id } = await gateway.createKey(['orders']);
    for (let i = 0; i < 3; i += 1) expect((await send(`${gateway.url}/api/x`, { headers: { 'x-api-key': key } })).status).toBe(200);
    expect((await send(`${gateway.url}/api/x`, { headers: { 'x-api-key': key } })).status).toBe(429);
    const inspected = (await call('GET', `/limits/api-per-key/keys/key:${id}`)).json<{ remaining: number }>();
    expect(inspected.remaining).toBe(0);
    expect((await call('DELETE', `/limits/api-per-key/keys/key:${id}`)).status).toBe(200);
    expect((await send(`${gateway.url}/api/x`, { headers: { 'x-api-key': key } })).status).toBe(200);
  });

  it('answers an audit date filter the database cannot hold with 400, not 503 DEPENDENCY_UNAVAILABLE', async () => {
    for (const query of ['since=-010000-01-01T00:00:00Z', 'until=%2B275760-09-13T00:00:00Z']) {
      const response = await call('GET', `/audit?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.headers['retry-after'], query).toBeUndefined();
    }
    expect((await call('GET', '/audit?since=2000-01-01T00:00:00Z&until=9999-12-31T00:00:00Z')).status).toBe(200);
  });

  it('answers 503 DEPENDENCY_UNAVAILABLE when the database is down, and changes nothing', async () => {
    await gateway.running.services.database?.close();
    const response = await call('POST', '/keys', { name: 'while-down', tenant: 'acme' });
    expect(response.status).toBe(503);
    expect(response.json().code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(response.headers['retry-after']).toBeDefined();
  });
});
