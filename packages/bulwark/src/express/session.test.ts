import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKeyring, generateMasterKey, parseMasterKey } from '../crypto/index.js';
import { createClientIpResolver } from '../http/client-ip.js';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { createCsrfProtection } from '../session/csrf.js';
import { createMemorySessionStore } from '../session/memory-store.js';
import { SessionStoreError } from '../session/store-error.js';
import type { SecureSessionStore } from '../session/types.js';
import { csrfProtection } from './csrf.js';
import { problemErrorHandler } from './errors.js';
import { createExpressSessions } from './session.js';

const keyring = createKeyring({ current: parseMasterKey(generateMasterKey()) });
let clock = 1_700_000_000_000;
let registry = createMetricsRegistry({ defaultMetrics: false });
const makeStore = (): SecureSessionStore => createMemorySessionStore({ keyring, registry, now: () => clock, lockout: { threshold: 3 } });
let store = makeStore();
let storeDown = false;
let server: Server;
let port: number;

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Raw HTTP, so no client adds or normalises headers (fetch would add its own Sec-Fetch-Mode and Content-Type). */
function send(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { 'user-agent': 'browser/1', 'x-forwarded-for': '203.0.113.5', host: `127.0.0.1:${port}`, ...options.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function cookieJar(reply: Reply, previous = ''): string {
  const values = new Map(previous.split('; ').filter(Boolean).map((pair) => pair.split('=') as [string, string]));
  for (const line of reply.headers['set-cookie'] ?? []) {
    const [pair = ''] = line.split(';');
    const [name = '', value = ''] = pair.split('=');
    if (line.includes('Max-Age=0')) values.delete(name);
    else values.set(name, value);
  }
  return [...values].map(([name, value]) => `${name}=${value}`).join('; ');
}

const csrfOf = (cookie: string): string => /__Host-csrf=([^;]+)/.exec(cookie)?.[1] ?? '';

async function login(user = 'alice'): Promise<string> {
  const reply = await send('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body: `user=${user}` });
  expect(reply.status).toBe(204);
  return cookieJar(reply);
}

beforeAll(async () => {
  // The current test's store, which can be made to fail.
  const proxyStore = new Proxy({} as SecureSessionStore, {
    get: (_target, property) =>
      property === 'validate' && storeDown ? () => Promise.reject(new SessionStoreError('unavailable', 'down')) : Reflect.get(store, property),
  });
  const csrf = createCsrfProtection({ secrets: [keyring.subkey('csrf')], registry: createMetricsRegistry({ defaultMetrics: false }) });
  const sessions = createExpressSessions({ store: proxyStore, csrf, clientIp: createClientIpResolver({ trustedProxies: ['loopback'] }) });
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.post('/login', csrfProtection({ csrf }), async (req, res, next) => {
    try {
      const result = await sessions.login(req, res, { tenant: 'acme', userId: String((req.body as Record<string, unknown>).user), data: { visits: 0 } });
      res.status(result.ok ? 204 : 401).end();
    } catch (error) {
      next(error);
    }
  });
  app.get('/me', sessions.middleware(), sessions.middleware(), (req, res) => {
    res.json({ data: req.bulwarkSession?.session.data, csrfToken: req.bulwarkSession?.csrfToken });
  });
  app.get('/maybe', sessions.middleware({ required: false }), (req, res) => res.json({ user: req.bulwarkSession?.session.userId ?? null }));
  app.post('/visit', sessions.middleware(), csrfProtection({ csrf }), async (req, res) => {
    const result = await req.bulwarkSession?.modify((data) => ({ ...data, visits: Number(data.visits) + 1 }));
    res.json(result?.ok ? result.session.data : null);
  });
  app.post('/elevate', sessions.middleware(), csrfProtection({ csrf }), async (req, res) => {
    const result = await req.bulwarkSession?.regenerate({ data: { role: 'admin' } });
    res.status(result?.ok ? 204 : 409).end();
  });
  app.post('/logout', sessions.middleware(), csrfProtection({ csrf }), async (req, res) => {
    await req.bulwarkSession?.destroy();
    res.status(204).end();
  });
  app.use(problemErrorHandler());
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  port = (server.address() as AddressInfo).port;
});

beforeEach(() => {
  registry = createMetricsRegistry({ defaultMetrics: false });
  store = makeStore();
  storeDown = false;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('Express sessions', () => {
  it('logs in with secure cookies and serves the session to later requests', async () => {
    const reply = await send('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user=alice' });
    const setCookie = reply.headers['set-cookie'] ?? [];
    expect(setCookie[0]).toMatch(/^__Host-sid=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    expect(setCookie[1]).toMatch(/^__Host-csrf=v1\.[^;]+; Path=\/; Secure; SameSite=Lax$/);
    const me = await send('/me', { headers: { cookie: cookieJar(reply) } });
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toEqual({ data: { visits: 0 }, csrfToken: csrfOf(cookieJar(reply)) });
    expect(me.headers.vary).toBe('Cookie');
    // Two session middlewares on the route, one validation.
    const metric = await registry.getSingleMetric('session_validations_total')?.get();
    expect(metric?.values.find((value) => value.labels.result === 'valid')?.value).toBe(1);
  });

  it('answers 401 SESSION_REQUIRED without a cookie, and lets optional routes through', async () => {
    const reply = await send('/me');
    expect(reply.status).toBe(401);
    expect(reply.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(reply.body)).toMatchObject({ code: 'SESSION_REQUIRED', status: 401 });
    expect(JSON.parse((await send('/maybe')).body)).toEqual({ user: null });
  });

  it('gives every invalid session the same answer, whatever the reason, and deletes the cookie', async () => {
    const strip = (reply: Reply) => {
      const { requestId: _requestId, instance: _instance, ...rest } = JSON.parse(reply.body) as Record<string, unknown>;
      return { status: reply.status, body: rest, cleared: (reply.headers['set-cookie'] ?? []).every((line) => line.includes('Max-Age=0')) };
    };
    const answers: ReturnType<typeof strip>[] = [];
    answers.push(strip(await send('/me', { headers: { cookie: '__Host-sid=forged' } })));
    answers.push(strip(await send('/me', { headers: { cookie: await login(), 'x-forwarded-for': '198.51.100.9' } })));
    answers.push(strip(await send('/me', { headers: { cookie: await login('bob'), 'user-agent': 'curl/8' } })));
    const expiring = await login('carol');
    clock += 15 * 60_000;
    answers.push(strip(await send('/me', { headers: { cookie: expiring } })));
    const victim = await login('dave');
    for (let attempt = 0; attempt < 3; attempt += 1) await send('/me', { headers: { cookie: victim, 'x-forwarded-for': '198.51.100.9' } });
    answers.push(strip(await send('/me', { headers: { cookie: victim } })));
    const metric = await registry.getSingleMetric('session_validations_total')?.get();
    expect(new Set(metric?.values.map((value) => value.labels.result))).toEqual(new Set(['not_found', 'ip_mismatch', 'fingerprint_mismatch', 'expired', 'locked']));
    expect(answers[0]).toMatchObject({ status: 401, body: { code: 'SESSION_INVALID' }, cleared: true });
    for (const answer of answers) expect(answer).toEqual(answers[0]);
  });

  it('refuses a cross-site POST with every Content-Type spelling before the handler runs', async () => {
    const cookie = await login();
    for (const contentType of [undefined, 'text/plain', 'TEXT/PLAIN', 'application/x-www-form-urlencoded; charset=UTF-8', 'multipart/form-data; boundary=x', 'APPLICATION/JSON']) {
      for (const site of [{ 'sec-fetch-site': 'cross-site' }, { origin: 'https://evil.example' }]) {
        const headers: Record<string, string> = { cookie, 'x-csrf-token': csrfOf(cookie), ...site, ...(contentType === undefined ? {} : { 'content-type': contentType }) };
        const reply = await send('/visit', { method: 'POST', headers, body: 'x=1' });
        expect(reply.status).toBe(403);
        expect(JSON.parse(reply.body)).toMatchObject({ code: 'CSRF_REJECTED' });
        expect(reply.headers.vary).toContain('Origin, Sec-Fetch-Site');
      }
    }
    expect(JSON.parse((await send('/me', { headers: { cookie } })).body)).toMatchObject({ data: { visits: 0 } });
    // Login CSRF: the login form is protected without a session too.
    const forged = await send('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' }, body: 'user=mallory' });
    expect(forged.status).toBe(403);
  });

  it('allows a same-site POST carrying the session’s token, in the header or the form', async () => {
    const cookie = await login();
    const missing = await send('/visit', { method: 'POST', headers: { cookie, 'sec-fetch-site': 'same-origin' } });
    expect(JSON.parse(missing.body)).toMatchObject({ status: 403, code: 'CSRF_TOKEN_MISSING' });
    const viaHeader = await send('/visit', { method: 'POST', headers: { cookie, 'sec-fetch-site': 'same-origin', 'x-csrf-token': csrfOf(cookie) } });
    expect(JSON.parse(viaHeader.body)).toEqual({ visits: 1 });
    const viaForm = await send('/visit', { method: 'POST', headers: { cookie, origin: `http://127.0.0.1:${port}`, 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${csrfOf(cookie)}` });
    expect(JSON.parse(viaForm.body)).toEqual({ visits: 2 });
  });

  it('regenerates on privilege change: new cookies, and the old session and token are refused', async () => {
    const cookie = await login();
    const elevated = await send('/elevate', { method: 'POST', headers: { cookie, 'sec-fetch-site': 'same-origin', 'x-csrf-token': csrfOf(cookie) } });
    expect(elevated.status).toBe(204);
    const fresh = cookieJar(elevated, cookie);
    expect(fresh).not.toBe(cookie);
    expect((await send('/me', { headers: { cookie } })).status).toBe(401);
    expect(JSON.parse((await send('/me', { headers: { cookie: fresh } })).body)).toMatchObject({ data: { role: 'admin' } });
    const staleToken = await send('/visit', { method: 'POST', headers: { cookie: fresh.replace(csrfOf(fresh), csrfOf(cookie)), 'sec-fetch-site': 'same-origin', 'x-csrf-token': csrfOf(cookie) } });
    expect(JSON.parse(staleToken.body)).toMatchObject({ code: 'CSRF_TOKEN_INVALID' });
  });

  it('logs out: the cookies are deleted and the session is gone', async () => {
    const cookie = await login();
    const out = await send('/logout', { method: 'POST', headers: { cookie, 'sec-fetch-site': 'same-origin', 'x-csrf-token': csrfOf(cookie) } });
    expect(out.status).toBe(204);
    expect(cookieJar(out, cookie)).toBe('');
    expect((await send('/me', { headers: { cookie } })).status).toBe(401);
  });

  it('answers 503 with Retry-After when the session store is down', async () => {
    const cookie = await login();
    storeDown = true;
    const reply = await send('/me', { headers: { cookie } });
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('1');
    expect(JSON.parse(reply.body)).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    expect(reply.body).not.toContain('down');
  });
});
