import { randomBytes } from 'node:crypto';
import fastify from 'fastify';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, generateMasterKey, parseMasterKey } from '../crypto/index.js';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { createCsrfProtection } from '../session/csrf.js';
import { createMemorySessionStore } from '../session/memory-store.js';
import { csrfProtection } from './csrf.js';
import { installProblemHandlers } from './errors.js';
import { createFastifySessions } from './session.js';

const registry = createMetricsRegistry({ defaultMetrics: false });
const store = createMemorySessionStore({ keyring: createKeyring({ current: parseMasterKey(generateMasterKey()) }), registry });
const csrf = createCsrfProtection({ secrets: [randomBytes(32)], registry });
let app: FastifyInstance;

const UA = { 'user-agent': 'browser/1' };

function cookieJar(reply: LightMyRequestResponse, previous = ''): string {
  const values = new Map(previous.split('; ').filter(Boolean).map((pair) => pair.split('=') as [string, string]));
  const lines = reply.headers['set-cookie'];
  for (const line of typeof lines === 'string' ? [lines] : (lines ?? [])) {
    const [pair = ''] = line.split(';');
    const [name = '', value = ''] = pair.split('=');
    if (line.includes('Max-Age=0')) values.delete(name);
    else values.set(name, value);
  }
  return [...values].map(([name, value]) => `${name}=${value}`).join('; ');
}
const csrfOf = (cookie: string): string => /__Host-csrf=([^;]+)/.exec(cookie)?.[1] ?? '';

async function login(user = 'alice'): Promise<string> {
  const reply = await app.inject({ method: 'POST', url: '/login', headers: { ...UA, 'sec-fetch-site': 'same-origin' }, payload: { user } });
  expect(reply.statusCode).toBe(204);
  return cookieJar(reply);
}

beforeAll(async () => {
  const sessions = createFastifySessions({ store, csrf });
  app = fastify();
  installProblemHandlers(app);
  app.addHook('onRequest', sessions.load);
  app.addHook('preHandler', csrfProtection({ csrf }));
  app.post<{ Body: { user: string } }>('/login', async (request, reply) => {
    const result = await sessions.login(request, reply, { tenant: 'acme', userId: request.body.user, data: { visits: 0 } });
    return reply.code(result.ok ? 204 : 401).send();
  });
  app.get('/me', { onRequest: sessions.require }, async (request) => ({ data: request.bulwarkSession?.session.data }));
  app.get('/maybe', async (request) => ({ user: request.bulwarkSession?.session.userId ?? null }));
  app.post('/visit', { onRequest: sessions.require }, async (request) => {
    const result = await request.bulwarkSession?.modify((data) => ({ ...data, visits: Number(data.visits) + 1 }));
    return result?.ok ? result.session.data : null;
  });
  app.post('/logout', { onRequest: sessions.require }, async (request, reply) => {
    await request.bulwarkSession?.destroy();
    return reply.code(204).send();
  });
  await app.ready();
});

afterAll(async () => {
  await app.close();
});

describe('Fastify sessions', () => {
  it('logs in with secure cookies and serves the session to routes that require it', async () => {
    const cookie = await login();
    expect(cookie).toMatch(/^__Host-sid=[^;]+; __Host-csrf=v1\./);
    const me = await app.inject({ url: '/me', headers: { ...UA, cookie } });
    expect(me.json()).toEqual({ data: { visits: 0 } });
    expect(me.headers.vary).toBe('Cookie');
    expect((await app.inject({ url: '/maybe', headers: { ...UA, cookie } })).json()).toEqual({ user: 'alice' });
  });

  it('answers 401 SESSION_REQUIRED or SESSION_INVALID as problems, deleting a dead cookie', async () => {
    const none = await app.inject({ url: '/me', headers: UA });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ code: 'SESSION_REQUIRED' });
    const cookie = await login();
    const otherDevice = await app.inject({ url: '/me', headers: { 'user-agent': 'curl/8', cookie } });
    const forged = await app.inject({ url: '/me', headers: { ...UA, cookie: '__Host-sid=forged' } });
    for (const reply of [otherDevice, forged]) {
      expect(reply.statusCode).toBe(401);
      expect(reply.json()).toMatchObject({ code: 'SESSION_INVALID', detail: 'Session invalid or expired' });
      expect(String(reply.headers['set-cookie'])).toContain('__Host-sid=; Path=/; Max-Age=0');
    }
    expect((await app.inject({ url: '/maybe', headers: { ...UA, cookie: '__Host-sid=forged' } })).json()).toEqual({ user: null });
  });

  it('refuses a cross-site POST with every Content-Type spelling, and allows a same-site one with the token', async () => {
    const cookie = await login();
    for (const contentType of ['text/plain', 'TEXT/PLAIN', 'text/plain; charset=utf-8', 'application/json', 'Application/Json; charset=UTF-8']) {
      const reply = await app.inject({ method: 'POST', url: '/visit', headers: { ...UA, cookie, 'x-csrf-token': csrfOf(cookie), 'sec-fetch-site': 'cross-site', 'content-type': contentType }, payload: contentType.toLowerCase().includes('json') ? '{}' : 'x' });
      expect(reply.statusCode).toBe(403);
      expect(reply.json()).toMatchObject({ code: 'CSRF_REJECTED' });
      expect(reply.headers.vary).toContain('Origin, Sec-Fetch-Site');
    }
    const noType = await app.inject({ method: 'POST', url: '/visit', headers: { ...UA, cookie, origin: 'https://evil.example' } });
    expect(noType.json()).toMatchObject({ code: 'CSRF_REJECTED' });
    const missing = await app.inject({ method: 'POST', url: '/visit', headers: { ...UA, cookie, 'sec-fetch-site': 'same-origin' } });
    expect(missing.json()).toMatchObject({ code: 'CSRF_TOKEN_MISSING' });
    const ok = await app.inject({ method: 'POST', url: '/visit', headers: { ...UA, cookie, 'sec-fetch-site': 'same-origin', 'x-csrf-token': csrfOf(cookie) } });
    expect(ok.json()).toEqual({ visits: 1 });
  });

  it('logs out, deleting both cookies', async () => {
    const cookie = await login();
    const out = await app.inject({ method: 'POST', url: '/logout', headers: { ...UA, cookie, 'sec-fetch-site': 'same-origin', 'x-csrf-token': csrfOf(cookie) } });
    expect(out.statusCode).toBe(204);
    expect(cookieJar(out, cookie)).toBe('');
    expect((await app.inject({ url: '/me', headers: { ...UA, cookie } })).statusCode).toBe(401);
  });
});
