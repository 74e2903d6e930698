import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestGateway, type TestGateway } from '../support/gateway.js';
import { assertSafe } from '../support/security-suite.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/**
 * `auth: { type: session }`: sessions the application created (here through the same session
 * store), checked by the gateway with the CSRF rules of bulwark/session; revocable by user through
 * the admin API.
 */

let upstream: TestUpstream;
let gateway: TestGateway;

beforeAll(async () => {
  upstream = await startUpstream();
  gateway = await startTestGateway({
    config: {
      sessions: { cookieName: 'sid', secureCookie: false },
      upstreams: { app: { url: upstream.url } },
      routes: [{ name: 'account', match: { prefix: '/account' }, upstream: 'app', auth: { type: 'session', scopes: ['account'] } }],
    },
  });
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

/** Logs a user in the way the application would: a session in the shared store, its cookies. */
async function login(userId: string, scopes: readonly string[]): Promise<{ cookie: string; csrfToken: string }> {
  const cookies: string[] = [];
  const started = await gateway.running.services.sessionHttp.start(
    { method: 'POST', headers: {}, remoteAddress: '127.0.0.1', setCookie: (value) => cookies.push(value), vary: () => undefined },
    { tenant: 'acme', userId, data: { scopes: [...scopes] } },
  );
  if (!started.ok) throw new Error('login refused');
  return { cookie: cookies.map((value) => value.split(';')[0]).join('; '), csrfToken: started.handle.csrfToken ?? '' };
}

describe('session auth', () => {
  it('accepts a valid session, refuses a missing or forged one, and enforces the route scopes', async () => {
    const { cookie } = await login('alice', ['account']);
    const ok = await send(`${gateway.url}/account/me`, { headers: { cookie } });
    expect(ok.status).toBe(200);
    expect(upstream.seen.at(-1)?.headers['x-bulwark-key-id']).toBe('alice');
    expect(upstream.seen.at(-1)?.headers['x-bulwark-tenant']).toBe('acme');

    const missing = await send(`${gateway.url}/account/me`);
    assertSafe(missing, 'no session');
    expect(missing.status).toBe(401);
    expect(missing.json().code).toBe('SESSION_REQUIRED');
    const forged = await send(`${gateway.url}/account/me`, { headers: { cookie: 'sid=forged-session-id-forged-session-id-forged' } });
    expect(forged.status).toBe(401);

    const { cookie: noScope } = await login('bob', []);
    const refused = await send(`${gateway.url}/account/me`, { headers: { cookie: noScope } });
    expect(refused.status).toBe(403);
  });

  it('requires the CSRF token on unsafe methods', async () => {
    const { cookie, csrfToken } = await login('carol', ['account']);
    const without = await send(`${gateway.url}/account/settings`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{}' });
    assertSafe(without, 'csrf');
    expect(without.status).toBe(403);
    expect(String(without.json().code)).toMatch(/^CSRF_/);
    const withToken = await send(`${gateway.url}/account/settings`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': csrfToken }, body: '{}' });
    expect(withToken.status).toBe(200);
  });

  it('revokes every session of a user through the admin API (audited)', async () => {
    const { key: admin } = await gateway.createKey(['admin']);
    const { cookie } = await login('dave', ['account']);
    expect((await send(`${gateway.url}/account/me`, { headers: { cookie } })).status).toBe(200);
    const revoked = await send(`${gateway.url}/admin/sessions/revoke`, { method: 'POST', headers: { 'x-api-key': admin, 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'acme', userId: 'dave' }) });
    expect(revoked.status).toBe(200);
    expect(revoked.json()).toEqual({ revoked: 1 });
    expect((await send(`${gateway.url}/account/me`, { headers: { cookie } })).status).toBe(401);
  });
});
