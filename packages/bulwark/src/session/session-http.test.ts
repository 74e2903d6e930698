import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyring, generateMasterKey, parseMasterKey } from '../crypto/index.js';
import { createClientIpResolver } from '../http/client-ip.js';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { readCookie } from './cookie.js';
import { createCsrfProtection } from './csrf.js';
import { createMemorySessionStore } from './memory-store.js';
import type { MemorySessionStoreOptions } from './memory-store.js';
import { createSessionHttp } from './session-http.js';
import type { HttpExchange } from './session-http.js';
import { createSessionPort } from './session-port.js';
import { SessionStoreError } from './store-error.js';
import type { HeaderBag, SecureSessionStore } from './types.js';

const keyring = createKeyring({ current: parseMasterKey(generateMasterKey()) });
const registry = createMetricsRegistry({ defaultMetrics: false });
const UA = { 'user-agent': 'test-browser/1.0' };

interface Recorded extends HttpExchange {
  readonly cookies: string[];
  readonly varied: string[];
}

function exchange(headers: HeaderBag, method = 'GET', remoteAddress = '192.0.2.1'): Recorded {
  const cookies: string[] = [];
  const varied: string[] = [];
  return { method, headers: { ...UA, ...headers }, remoteAddress, cookies, varied, setCookie: (value) => cookies.push(value), vary: (names) => varied.push(...names) };
}

/** The Cookie header a browser would send after these Set-Cookie values. */
function jar(setCookies: readonly string[]): string {
  const values = new Map<string, string>();
  for (const line of setCookies) {
    const [pair = ''] = line.split(';');
    const [name = '', value = ''] = pair.split('=');
    if (/Max-Age=0/.test(line)) values.delete(name);
    else values.set(name, value);
  }
  return [...values].map(([name, value]) => `${name}=${value}`).join('; ');
}

function setup(options: Partial<MemorySessionStoreOptions> = {}, store?: SecureSessionStore) {
  let clock = 1_700_000_000_000;
  const sessions = store ?? createMemorySessionStore({ keyring, registry, now: () => clock, ...options });
  const csrf = createCsrfProtection({ secrets: [randomBytes(32)], registry });
  const http = createSessionHttp({ store: sessions, csrf });
  return { http, csrf, store: sessions, advance: (ms: number) => (clock += ms) };
}

async function login(http: ReturnType<typeof setup>['http']) {
  const request = exchange({});
  const started = await http.start(request, { tenant: 'acme', userId: 'alice', data: { role: 'user' } });
  if (!started.ok) throw new Error('login refused');
  return { handle: started.handle, cookie: jar(request.cookies), setCookies: request.cookies };
}

describe('session HTTP layer', () => {
  it('logs in with a __Host- HttpOnly session cookie and a readable __Host- CSRF cookie', async () => {
    const { http } = setup();
    const { handle, setCookies } = await login(http);
    expect(setCookies).toHaveLength(2);
    expect(setCookies[0]).toMatch(/^__Host-sid=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    expect(setCookies[1]).toBe(`__Host-csrf=${handle.csrfToken}; Path=/; Secure; SameSite=Lax`);
    expect(http.cookieNames).toEqual(['__Host-sid', '__Host-csrf']);
  });

  it('loads a valid session, keeping a valid CSRF cookie and replacing a missing one', async () => {
    const { http } = setup();
    const { cookie, handle } = await login(http);
    const again = exchange({ cookie });
    const loaded = await http.load(again);
    expect(loaded.state === 'valid' && loaded.handle.session.id).toBe(handle.session.id);
    expect(again.cookies).toEqual([]);
    expect(again.varied).toEqual(['Cookie']);
    const withoutCsrf = exchange({ cookie: cookie.replace(/; __Host-csrf=[^;]*/, '') });
    const reloaded = await http.load(withoutCsrf);
    expect(withoutCsrf.cookies).toHaveLength(1);
    expect(reloaded.state === 'valid' && withoutCsrf.cookies[0]).toBe(`__Host-csrf=${reloaded.state === 'valid' ? reloaded.handle.csrfToken : ''}; Path=/; Secure; SameSite=Lax`);
  });

  it('reports a missing cookie, and deletes a dead one in the response', async () => {
    const { http, advance } = setup();
    expect(await http.load(exchange({}))).toEqual({ state: 'missing' });
    expect(await http.load(exchange({ cookie: 'other=1' }))).toEqual({ state: 'missing' });
    const { cookie } = await login(http);
    advance(15 * 60_000);
    const stale = exchange({ cookie });
    expect(await http.load(stale)).toEqual({ state: 'invalid', reason: 'expired' });
    expect(stale.cookies).toEqual(['__Host-sid=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax', '__Host-csrf=; Path=/; Max-Age=0; Secure; SameSite=Lax']);
    const forged = exchange({ cookie: '__Host-sid=forged' });
    expect(await http.load(forged)).toEqual({ state: 'invalid', reason: 'not_found' });
  });

  it('binds to the client address resolved behind trusted proxies only', async () => {
    const store = createMemorySessionStore({ keyring, registry });
    const http = createSessionHttp({ store, clientIp: createClientIpResolver({ trustedProxies: ['loopback'] }) });
    const request = exchange({ 'x-forwarded-for': '203.0.113.9' }, 'POST', '127.0.0.1');
    const started = await http.start(request, { tenant: 'acme', userId: 'bob' });
    expect(started.ok && started.handle.session.userId).toBe('bob');
    const cookie = jar(request.cookies);
    expect((await http.load(exchange({ cookie, 'x-forwarded-for': '203.0.113.9' }, 'GET', '127.0.0.1'))).state).toBe('valid');
    expect(await http.load(exchange({ cookie, 'x-forwarded-for': '198.51.100.1' }, 'GET', '127.0.0.1'))).toEqual({ state: 'invalid', reason: 'ip_mismatch' });
    // A client cannot claim an address from an untrusted peer.
    expect(await http.load(exchange({ cookie, 'x-forwarded-for': '203.0.113.9' }, 'GET', '198.51.100.1'))).toEqual({ state: 'invalid', reason: 'ip_mismatch' });
  });

  it('renews a session due for renewal: new session and CSRF cookies, the old cookie honoured in flight', async () => {
    const { http, advance } = setup({ renewalIntervalMs: 60_000 });
    const { cookie, handle } = await login(http);
    advance(60_000);
    const due = exchange({ cookie });
    const loaded = await http.load(due);
    if (loaded.state !== 'valid') throw new Error('not valid');
    expect(loaded.handle.session.id).not.toBe(handle.session.id);
    expect(loaded.handle.session.previousId).toBe(handle.session.id);
    expect(due.cookies.map((line) => line.split('=')[0])).toEqual(['__Host-sid', '__Host-csrf']);
    // A request sent with the old cookies before the answer arrived: still valid, and its CSRF token still verifies.
    const inFlight = exchange({ cookie, 'sec-fetch-site': 'same-origin', 'x-csrf-token': handle.csrfToken }, 'POST');
    const old = await http.load(inFlight);
    expect(old.state).toBe('valid');
    expect(http.checkCsrf(inFlight, old.state === 'valid' ? old.handle : undefined)).toEqual({ ok: true });
  });

  it('writes data with compare-and-set, regenerates with fresh cookies, and logs out clearing them', async () => {
    const { http, csrf } = setup();
    const { cookie, handle } = await login(http);
    const request = exchange({ cookie });
    const loaded = await http.load(request);
    if (loaded.state !== 'valid') throw new Error('not valid');
    expect(await loaded.handle.update({ role: 'user', theme: 'dark' })).toMatchObject({ ok: true, session: { version: 2 } });
    expect(await handle.update({ role: 'stale' })).toEqual({ ok: false, reason: 'version_conflict' });
    expect(await handle.modify((data) => ({ ...data, visits: 1 }))).toMatchObject({ ok: true, session: { data: { theme: 'dark', visits: 1 } } });
    const oldCsrf = loaded.handle.csrfToken;
    const rotated = await loaded.handle.regenerate({ data: { role: 'admin' } });
    expect(rotated.ok).toBe(true);
    expect(request.cookies.map((line) => line.split('=')[0])).toEqual(['__Host-sid', '__Host-csrf']);
    expect(loaded.handle.csrfToken).not.toBe(oldCsrf);
    expect(csrf.verifyToken(oldCsrf, { id: loaded.handle.session.id })).toBe(false);
    expect((await http.load(exchange({ cookie }))).state).toBe('invalid');
    const after = jar([...request.cookies]);
    expect(readCookie(after, '__Host-sid')).not.toBe(readCookie(cookie, '__Host-sid'));
    const logout = exchange({ cookie: after });
    const current = await http.load(logout);
    if (current.state !== 'valid') throw new Error('not valid');
    await current.handle.destroy();
    await current.handle.destroy();
    expect(logout.cookies.filter((line) => line.includes('Max-Age=0'))).toHaveLength(2);
    expect((await http.load(exchange({ cookie: after }))).state).toBe('invalid');
  });

  it('a new login revokes whatever session id the browser held (fixation)', async () => {
    const { http } = setup();
    const first = await login(http);
    const request = exchange({ cookie: first.cookie });
    await http.start(request, { tenant: 'acme', userId: 'alice' });
    expect((await http.load(exchange({ cookie: first.cookie }))).state).toBe('invalid');
    expect((await http.load(exchange({ cookie: jar(request.cookies) }))).state).toBe('valid');
  });

  it('refuses a login while the user is locked out', async () => {
    const { http, store } = setup({ lockout: { threshold: 1 } });
    await store.recordFailure({ tenant: 'acme', userId: 'alice' });
    const request = exchange({});
    expect(await http.start(request, { tenant: 'acme', userId: 'alice' })).toEqual({ ok: false, reason: 'locked' });
    expect(request.cookies).toEqual([]);
  });

  it('validates its options', () => {
    const store = createMemorySessionStore({ keyring, registry });
    expect(() => createSessionHttp({ store: {} as never })).toThrow(/store/);
    expect(() => createSessionHttp({ store, csrf: {} as never })).toThrow(/csrf/);
    expect(() => createSessionHttp({ store, cookieName: '__Host-sid' })).toThrow(/prefix/);
    expect(() => createSessionHttp({ store, clientIp: 'x' as never })).toThrow(/clientIp/);
    expect(createSessionHttp({ store, cookieName: 'admin' }).cookieName).toBe('__Host-admin');
  });
});

describe('session port (for the gateway)', () => {
  const request = (headers: HeaderBag, method = 'GET') => ({ method, headers: { ...UA, ...headers }, socket: { remoteAddress: '192.0.2.1' } });

  it('verifies the cookie without writing cookies, and checks CSRF against the loaded session', async () => {
    const { http } = setup();
    const port = createSessionPort(http);
    expect(port.cookieNames).toEqual(['__Host-sid', '__Host-csrf']);
    const { cookie, handle } = await login(http);
    await handle.update({ scopes: ['admin:read', 7, 'admin:write'] });
    const ok = request({ cookie, 'sec-fetch-site': 'same-origin', 'x-csrf-token': handle.csrfToken }, 'POST');
    expect(await port.verify(ok)).toMatchObject({ ok: true, subject: 'alice', tenant: 'acme', scopes: ['admin:read', 'admin:write'] });
    expect(await port.checkCsrf(ok)).toBeUndefined();
    const noToken = request({ cookie, 'sec-fetch-site': 'same-origin' }, 'POST');
    await port.verify(noToken);
    expect(await port.checkCsrf(noToken)).toBe('missing');
    expect(await port.checkCsrf(request({ 'sec-fetch-site': 'cross-site' }, 'POST'))).toBe('cross_site');
    expect(await port.verify(request({}))).toEqual({ ok: false, reason: 'missing' });
    expect(await port.verify(request({ cookie: '__Host-sid=nope' }))).toEqual({ ok: false, reason: 'invalid' });
  });

  it('answers unavailable when the store fails', async () => {
    const failing = { ...createMemorySessionStore({ keyring, registry }), validate: () => Promise.reject(new SessionStoreError('timeout', 'slow')) };
    const port = createSessionPort(createSessionHttp({ store: failing }));
    expect(await port.verify(request({ cookie: '__Host-sid=x' }))).toEqual({ ok: false, reason: 'unavailable' });
  });
});
