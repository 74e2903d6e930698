import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateApiKey } from 'bulwark/auth';
import { generateMasterKey } from 'bulwark/crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { rawRequest } from '../support/raw-http.js';
import { send, startTestGateway, type TestGateway, type TestResponse } from '../support/gateway.js';
import { assertSafe } from '../support/security-suite.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/**
 * The gateway side of the admin console: its files, its sign-in sessions, and the admin API used
 * with a console session (CSRF), against a real gateway on loopback. Each test signs in from its own
 * client address (X-Forwarded-For from a trusted loopback proxy), so lockouts do not cross tests.
 */

/** The machine's Redis and PostgreSQL (see .ci/run). */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTGRES_URL = process.env.BULWARK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const CONSOLE_CSP =
  "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; report-uri /csp-report; report-to csp-endpoint";

let upstream: TestUpstream;
let gateway: TestGateway;
let assetsDir: string;
let admin: { key: string; id: string };

/** A built console in miniature: the page, hashed files, a source map, a root file, a dotfile. */
function writeConsoleBuild(dir: string): void {
  mkdirSync(join(dir, 'assets'), { recursive: true });
  // Relative URLs, as Vite's `base: './'` writes them: one build for any console.path.
  writeFileSync(join(dir, 'index.html'), '<!doctype html><html><head><script type="module" src="./assets/index-4f2a9c.js"></script></head><body></body></html>');
  writeFileSync(join(dir, 'assets', 'index-4f2a9c.js'), 'console.log("console");');
  writeFileSync(join(dir, 'assets', 'index-4f2a9c.js.map'), '{"version":3}');
  writeFileSync(join(dir, 'assets', 'index-77e1d0.css'), 'body{margin:0}');
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dir, '.env'), 'SECRET=1');
}

function gatewayConfig(consoleSection: Record<string, unknown>): Record<string, unknown> {
  return {
    server: { trustedProxies: ['loopback'] },
    upstreams: { api: { url: upstream.url } },
    routes: [{ name: 'api', match: { prefix: '/api' }, upstream: 'api', auth: { type: 'apiKey' }, rateLimits: [{ name: 'api-per-ip', limit: 100, window: '1m', by: 'ip' }] }],
    console: consoleSection,
  };
}

beforeAll(async () => {
  upstream = await startUpstream();
  assetsDir = mkdtempSync(join(tmpdir(), 'bulwark-console-'));
  writeConsoleBuild(assetsDir);
  gateway = await startTestGateway({ config: gatewayConfig({ assetsDir }) });
  admin = await gateway.createKey(['admin']);
}, 60_000);
afterAll(async () => {
  await gateway.close();
  await upstream.close();
  rmSync(assetsDir, { recursive: true, force: true });
});
afterEach(() => {
  vi.useRealTimers();
});

let nextAddress = 1;
/** A client address of its own for one test. */
const freshIp = (): string => `198.51.100.${nextAddress++}`;

/** What a same-origin `fetch()` of the console sends. */
function browser(ip: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'x-forwarded-for': ip, 'sec-fetch-site': 'same-origin', 'user-agent': 'Mozilla/5.0 (test)', ...extra };
}

async function signIn(key: string, ip: string, url = gateway.url): Promise<TestResponse> {
  const response = await send(`${url}/console/api/session`, { method: 'POST', headers: browser(ip, { 'content-type': 'application/json' }), body: JSON.stringify({ key }) });
  assertSafe(response, 'sign-in');
  return response;
}

/** Signs in and returns the cookie to send back and the CSRF token. */
async function session(key: string, ip: string, url = gateway.url): Promise<{ cookie: string; csrfToken: string; keyId: string }> {
  const response = await signIn(key, ip, url);
  expect(response.status, response.text).toBe(201);
  const setCookie = [response.headers['set-cookie']].flat().find((value) => value?.startsWith('__Host-bulwark-console=')) ?? '';
  const body = response.json<{ csrfToken: string; keyId: string }>();
  return { cookie: setCookie.split(';')[0] ?? '', csrfToken: body.csrfToken, keyId: body.keyId };
}

const keyCount = async (): Promise<number> => (await send(`${gateway.url}/admin/keys?limit=1000`, { headers: { 'x-api-key': admin.key } })).json<{ records: unknown[] }>().records.length;

describe('console sign-in', () => {
  it('exchanges an admin key for a __Host- session cookie and describes the session', async () => {
    const ip = freshIp();
    const response = await signIn(admin.key, ip);
    expect(response.status).toBe(201);
    const cookies = [response.headers['set-cookie']].flat();
    const cookie = cookies.find((value) => value?.startsWith('__Host-bulwark-console='));
    expect(cookie).toMatch(/^__Host-bulwark-console=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Strict$/);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json<Record<string, string>>();
    expect(Object.keys(body).sort()).toEqual(['absoluteExpiresAt', 'adminPrefix', 'csrfToken', 'idleExpiresAt', 'idleTimeoutMs', 'keyId']);
    expect(body.keyId).toBe(admin.id);
    expect(body).toMatchObject({ adminPrefix: '/admin', idleTimeoutMs: 15 * 60_000 });
    expect(Date.parse(body.absoluteExpiresAt ?? '') - Date.parse(body.idleExpiresAt ?? '')).toBeGreaterThan(7 * 3_600_000);
    expect(response.text).not.toContain(admin.key);

    const current = await send(`${gateway.url}/console/api/session`, { headers: browser(ip, { cookie: cookie?.split(';')[0] ?? '' }) });
    expect(current.status).toBe(200);
    expect(current.json()).toMatchObject({ keyId: admin.id, csrfToken: expect.stringMatching(/^v1\./), adminPrefix: '/admin', idleTimeoutMs: 15 * 60_000 });

    const audit = (await send(`${gateway.url}/admin/audit?action=console.sign_in&actor=${admin.id}`, { headers: { 'x-api-key': admin.key } })).json<{ entries: { outcome: string; target: string; clientIp: string }[] }>();
    expect(audit.entries[0]).toMatchObject({ outcome: 'success', target: admin.id, clientIp: ip });
  });

  it('answers every refused key with the same 401, then locks the address out (429 even for the right key)', async () => {
    const ip = freshIp();
    const { key: readOnly } = await gateway.createKey(['orders:read']);
    const revoked = await gateway.createKey(['admin']);
    await gateway.running.services.keyStore.revoke(revoked.id);
    const expired = await gateway.running.services.keyStore.create({ name: 'old', tenant: 't1', env: 'test', scopes: ['admin'], expiresAt: new Date(Date.now() - 1000) });
    const wrongKeys = ['not a key', generateApiKey('test'), readOnly, revoked.key, expired.key];
    const bodies: unknown[] = [];
    for (const key of wrongKeys) {
      const refused = await signIn(key, ip);
      expect(refused.status).toBe(401);
      expect(refused.headers['set-cookie']).toBeUndefined();
      const { requestId: _requestId, ...problem } = refused.json<Record<string, unknown>>();
      bodies.push(problem);
    }
    expect(new Set(bodies.map((body) => JSON.stringify(body))).size, 'one answer for every reason').toBe(1);
    expect(bodies[0]).toMatchObject({ code: 'CONSOLE_SIGN_IN_FAILED', detail: 'The key was not accepted.' });

    for (const key of ['bw_test_nope', admin.key]) {
      const locked = await signIn(key, ip);
      expect(locked.status).toBe(429);
      expect(locked.json().code).toBe('ACCOUNT_LOCKED');
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(800);
    }
    expect((await signIn(admin.key, freshIp())).status, 'another address is not locked').toBe(201);

    const audit = (await send(`${gateway.url}/admin/audit?action=console.sign_in&outcome=failure&limit=100`, { headers: { 'x-api-key': admin.key } })).json<{ entries: { clientIp: string; input: { reason: string } }[] }>();
    const mine = audit.entries.filter((entry) => entry.clientIp === ip);
    expect(mine.map((entry) => entry.input.reason).sort()).toEqual(['expired', 'insufficient_scope', 'invalid', 'malformed', 'revoked']);
    expect(JSON.stringify(audit)).not.toContain(readOnly);
  });

  it('resets the failure count after a successful sign-in', async () => {
    const ip = freshIp();
    for (let i = 0; i < 4; i += 1) expect((await signIn('bw_test_nope', ip)).status).toBe(401);
    expect((await signIn(admin.key, ip)).status).toBe(201);
    for (let i = 0; i < 4; i += 1) expect((await signIn('bw_test_nope', ip)).status).toBe(401);
    expect((await signIn(admin.key, ip)).status).toBe(201);
  });

  it('refuses a sign-in from another site before looking at the key', async () => {
    const ip = freshIp();
    const form = await send(`${gateway.url}/console/api/session`, {
      method: 'POST',
      headers: browser(ip, { 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }),
      body: `key=${admin.key}`,
    });
    assertSafe(form, 'cross-site sign-in');
    expect(form.status).toBe(403);
    expect(form.json().code).toBe('CSRF_REJECTED');
    const noFetchMetadata = await send(`${gateway.url}/console/api/session`, {
      method: 'POST',
      headers: { 'x-forwarded-for': ip, origin: 'https://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ key: admin.key }),
    });
    expect(noFetchMetadata.status, 'an Origin that is not the host').toBe(403);
    expect((await signIn('bw_test_nope', ip)).status, 'the refusals did not count as failures').toBe(401);
  });

  it('answers GET without a cookie 401 SESSION_REQUIRED, with a forged one 401 SESSION_INVALID', async () => {
    const missing = await send(`${gateway.url}/console/api/session`, { headers: browser(freshIp()) });
    expect(missing.status).toBe(401);
    expect(missing.json().code).toBe('SESSION_REQUIRED');
    const forged = await send(`${gateway.url}/console/api/session`, { headers: browser(freshIp(), { cookie: '__Host-bulwark-console=forged' }) });
    expect(forged.status).toBe(401);
    expect(forged.json().code).toBe('SESSION_INVALID');
  });
});

describe('the admin API with a console session', () => {
  it('serves reads with the cookie alone', async () => {
    const ip = freshIp();
    const { cookie } = await session(admin.key, ip);
    const keys = await send(`${gateway.url}/admin/keys`, { headers: browser(ip, { cookie }) });
    expect(keys.status).toBe(200);
    expect(keys.json<{ records: { id: string }[] }>().records.map((record) => record.id)).toContain(admin.id);
    expect((await send(`${gateway.url}/admin/keys`, { headers: { 'x-forwarded-for': ip } })).status, 'no cookie, no key').toBe(401);
  });

  it('needs the CSRF token for changes, and audits them with the session key as actor', async () => {
    const ip = freshIp();
    const { cookie, csrfToken } = await session(admin.key, ip);
    const create = (headers: Record<string, string>): Promise<TestResponse> =>
      send(`${gateway.url}/admin/keys`, { method: 'POST', headers: browser(ip, { cookie, 'content-type': 'application/json', ...headers }), body: JSON.stringify({ name: 'from-console', tenant: 'acme', scopes: ['orders'] }) });
    const before = await keyCount();

    const missing = await create({});
    assertSafe(missing, 'no token');
    expect(missing.status).toBe(403);
    expect(missing.json().code).toBe('CSRF_TOKEN_MISSING');
    const wrong = await create({ 'x-csrf-token': `v1.${'A'.repeat(22)}.${'B'.repeat(43)}` });
    expect(wrong.status).toBe(403);
    expect(wrong.json().code).toBe('CSRF_TOKEN_INVALID');
    expect(await keyCount()).toBe(before);

    const created = await create({ 'x-csrf-token': csrfToken });
    expect(created.status, created.text).toBe(201);
    const { record } = created.json<{ record: { id: string } }>();
    const audit = (await send(`${gateway.url}/admin/audit?action=api_key.create&target=${record.id}`, { headers: { 'x-api-key': admin.key } })).json<{ entries: { actor: string; clientIp: string }[] }>();
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]).toMatchObject({ actor: admin.id, clientIp: ip });

    const opened = await send(`${gateway.url}/admin/breakers/api/open`, { method: 'POST', headers: browser(ip, { cookie, 'x-csrf-token': csrfToken }) });
    expect(opened.status).toBe(200);
    await send(`${gateway.url}/admin/breakers/api/close`, { method: 'POST', headers: browser(ip, { cookie, 'x-csrf-token': csrfToken }) });
    const breakerAudit = (await send(`${gateway.url}/admin/audit?action=breaker.open&actor=${admin.id}`, { headers: { 'x-api-key': admin.key } })).json<{ entries: { input: { via?: string } }[] }>();
    expect(breakerAudit.entries[0]?.input.via).toBe('console');
  });

  it('refuses a cross-site form post to the admin API and the console API, and changes nothing', async () => {
    const ip = freshIp();
    const { cookie } = await session(admin.key, ip);
    const before = await keyCount();
    const form = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded', cookie };
    for (const [method, path] of [
      ['POST', '/admin/keys'],
      ['POST', `/admin/keys/${admin.id}/revoke`],
      ['DELETE', `/admin/keys/${admin.id}`],
      ['POST', '/admin/breakers/api/open'],
      ['POST', '/console/api/session'],
      ['DELETE', '/console/api/session'],
    ] as const) {
      const refused = await send(`${gateway.url}${path}`, { method, headers: browser(ip, form), body: 'name=evil&tenant=evil' });
      assertSafe(refused, `${method} ${path}`);
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(refused.json().code).toBe('CSRF_REJECTED');
    }
    expect(await keyCount()).toBe(before);
    expect((await send(`${gateway.url}/admin/breakers`, { headers: { 'x-api-key': admin.key } })).json<{ breakers: { api: { state: string } } }>().breakers.api.state).toBe('closed');
    expect((await send(`${gateway.url}/console/api/session`, { headers: browser(ip, { cookie }) })).status, 'the session survived').toBe(200);
  });

  it('signs out: the session is gone server-side, and replaying the old cookie is refused', async () => {
    const ip = freshIp();
    const { cookie, csrfToken } = await session(admin.key, ip);
    const noToken = await send(`${gateway.url}/console/api/session`, { method: 'DELETE', headers: browser(ip, { cookie }) });
    expect(noToken.status).toBe(403);
    const out = await send(`${gateway.url}/console/api/session`, { method: 'DELETE', headers: browser(ip, { cookie, 'x-csrf-token': csrfToken }) });
    expect(out.status).toBe(204);
    expect([out.headers['set-cookie']].flat().join('\n')).toMatch(/__Host-bulwark-console=; Path=\/; Max-Age=0/);
    for (const path of ['/console/api/session', '/admin/keys']) {
      const replayed = await send(`${gateway.url}${path}`, { headers: browser(ip, { cookie }) });
      expect(replayed.status, path).toBe(401);
      expect(replayed.json().code).toBe('SESSION_INVALID');
    }
    const audit = (await send(`${gateway.url}/admin/audit?action=console.sign_out&actor=${admin.id}`, { headers: { 'x-api-key': admin.key } })).json<{ entries: unknown[] }>();
    expect(audit.entries.length).toBeGreaterThan(0);
  });

  it('ends a session left idle longer than console.idleTimeout', async () => {
    const ip = freshIp();
    const { cookie } = await session(admin.key, ip);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    vi.setSystemTime(Date.now() + 14 * 60_000);
    expect((await send(`${gateway.url}/console/api/session`, { headers: browser(ip, { cookie }) })).status, 'activity within the idle timeout').toBe(200);
    vi.setSystemTime(Date.now() + 14 * 60_000);
    expect((await send(`${gateway.url}/console/api/session`, { headers: browser(ip, { cookie }) })).status, 'the idle deadline moved with the request').toBe(200);
    vi.setSystemTime(Date.now() + 16 * 60_000);
    const expired = await send(`${gateway.url}/console/api/session`, { headers: browser(ip, { cookie }) });
    expect(expired.status).toBe(401);
    expect(expired.json().code).toBe('SESSION_INVALID');
  });

  it('refuses the cookie from another client address', async () => {
    const { cookie } = await session(admin.key, '198.51.100.200');
    const elsewhere = await send(`${gateway.url}/admin/keys`, { headers: browser('203.0.113.50', { cookie }) });
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.json().code).toBe('SESSION_INVALID');
  });

  it('ends the sessions of an admin key once it is revoked', async () => {
    const ip = freshIp();
    const second = await gateway.createKey(['admin']);
    const { cookie } = await session(second.key, ip);
    expect((await send(`${gateway.url}/admin/keys`, { headers: browser(ip, { cookie }) })).status).toBe(200);
    expect((await send(`${gateway.url}/admin/keys/${second.id}/revoke`, { method: 'POST', headers: { 'x-api-key': admin.key } })).status).toBe(200);
    const after = await send(`${gateway.url}/admin/keys`, { headers: browser(ip, { cookie }) });
    expect(after.status).toBe(401);
    expect(after.json().code).toBe('SESSION_INVALID');
  });
});

describe('console files', () => {
  const expectConsoleHeaders = (response: TestResponse, context: string): void => {
    expect(response.headers['content-security-policy'], context).toBe(CONSOLE_CSP);
    expect(response.headers['reporting-endpoints'], context).toBe('csp-endpoint="/csp-report"');
    expect(response.headers['x-content-type-options'], context).toBe('nosniff');
    expect(response.headers['referrer-policy'], context).toBe('no-referrer');
    expect(response.headers['x-frame-options'], context).toBe('DENY');
  };

  it('redirects /console to /console/ and serves the page with no-cache and the console CSP', async () => {
    const redirect = await send(`${gateway.url}/console?x=1`);
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe('/console/?x=1');
    const page = await send(`${gateway.url}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.text).toContain('./assets/index-4f2a9c.js');
    expectConsoleHeaders(page, 'index');
    expect(page.headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
  });

  it('serves hashed files for a year with a validator, root files briefly, and redirects app paths to their hash route', async () => {
    const script = await send(`${gateway.url}/console/assets/index-4f2a9c.js`);
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(script.headers['content-length']).toBe(String(Buffer.byteLength('console.log("console");')));
    expectConsoleHeaders(script, 'asset');
    const etag = String(script.headers.etag);
    const revalidated = await send(`${gateway.url}/console/assets/index-4f2a9c.js`, { headers: { 'if-none-match': etag } });
    expect(revalidated.status).toBe(304);
    expect(revalidated.text).toBe('');

    const style = await send(`${gateway.url}/console/assets/index-77e1d0.css`);
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
    const icon = await send(`${gateway.url}/console/favicon.svg`);
    expect(icon.headers['content-type']).toBe('image/svg+xml');
    expect(icon.headers['cache-control']).toBe('public, max-age=300');

    // The page's relative file URLs resolve from <path>/ only: /console/a/b would load /console/a/assets/….
    for (const [path, location] of [
      ['/console/keys', '/console/#/keys'],
      ['/console/keys?tenant=acme', '/console/?tenant=acme#/keys'],
      ['/console/audit/older', '/console/#/audit/older'],
    ] as const) {
      const appPath = await send(`${gateway.url}${path}`);
      expect(appPath.status, path).toBe(302);
      expect(appPath.headers.location, path).toBe(location);
      expectConsoleHeaders(appPath, path);
    }
  });

  it('answers missing files, source maps, dotfiles and unknown API paths 404, with the console headers', async () => {
    for (const path of ['/console/assets/index-000000.js', '/console/assets/index-4f2a9c.js.map', '/console/.env', '/console/api/nothing', '/console/secret.txt']) {
      const response = await send(`${gateway.url}${path}`);
      assertSafe(response, path);
      expect(response.status, path).toBe(404);
      expect(response.headers['content-security-policy'], path).toMatch(/default-src 'none'/);
    }
  });

  it('refuses traversal attempts without reading outside the build', async () => {
    for (const path of ['/console/assets/../../package.json', '/console/assets/%2e%2e/%2e%2e/package.json', '/console/..%2f..%2fpackage.json', '/console/assets//index-4f2a9c.js', '/console/assets/%c0%ae%c0%ae/x']) {
      const { status, response } = await rawRequest(gateway.running.port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect([400, 404], path).toContain(status);
      expect(response, path).toContain('application/problem+json');
      expect(response, path).not.toContain('"name"');
    }
  });
});

describe('a console that was not built', () => {
  it('answers 503 CONSOLE_NOT_BUILT for the page, warns once at start-up, and keeps the API working', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'bulwark-console-empty-'));
    const unbuilt = await startTestGateway({ config: gatewayConfig({ assetsDir: empty }) });
    try {
      const page = await send(`${unbuilt.url}/console/`);
      assertSafe(page, 'unbuilt');
      expect(page.status).toBe(503);
      expect(page.json()).toMatchObject({ code: 'CONSOLE_NOT_BUILT', detail: expect.stringContaining('npm run build') });
      expect(unbuilt.logs.lines.filter((line) => String(line.msg).startsWith('console not built'))).toHaveLength(1);
      const key = await unbuilt.createKey(['admin']);
      expect((await signIn(key.key, freshIp(), unbuilt.url)).status).toBe(201);
    } finally {
      await unbuilt.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('keeps sessions and lockouts in Redis when it is configured: one instance signs in, another serves and signs out', async () => {
    const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
    const config = { ...gatewayConfig({ assetsDir }), redis: { url: REDIS_URL, keyPrefix: `bw_console_test_${suffix}:` } };
    // Two instances as deployed: one master key, one database, one Redis.
    const shared = { env: { BULWARK_MASTER_KEY: generateMasterKey() }, database: { url: POSTGRES_URL, schema: `bw_console_${suffix}` } };
    const first = await startTestGateway({ config, ...shared });
    const second = await startTestGateway({ config, ...shared });
    try {
      const created = await first.createKey(['admin']);
      const ip = freshIp();
      const { cookie, csrfToken } = await session(created.key, ip, first.url);
      expect((await send(`${second.url}/admin/keys`, { headers: browser(ip, { cookie }) })).status, 'the session works on the other instance').toBe(200);

      const locked = freshIp();
      for (let i = 0; i < 5; i += 1) expect((await signIn('bw_test_nope', locked, first.url)).status).toBe(401);
      expect((await signIn(created.key, locked, second.url)).status, 'the lockout is shared').toBe(429);

      expect((await send(`${second.url}/console/api/session`, { method: 'DELETE', headers: browser(ip, { cookie, 'x-csrf-token': csrfToken }) })).status).toBe(204);
      expect((await send(`${first.url}/console/api/session`, { headers: browser(ip, { cookie }) })).status, 'signed out everywhere').toBe(401);
    } finally {
      await first.running.services.database?.query(`DROP SCHEMA IF EXISTS ${shared.database.schema} CASCADE`);
      await first.close();
      await second.close();
    }
  }, 60_000);

  it('with bindIp: false, accepts the session from another address', async () => {
    const loose = await startTestGateway({ config: gatewayConfig({ assetsDir, bindIp: false }) });
    try {
      const key = await loose.createKey(['admin']);
      const { cookie } = await session(key.key, '198.51.100.201', loose.url);
      expect((await send(`${loose.url}/admin/keys`, { headers: browser('203.0.113.51', { cookie }) })).status).toBe(200);
    } finally {
      await loose.close();
    }
  });
});

describe('a console under other paths', () => {
  it('serves the same build under console.path /ops/console and names admin.prefix /ops/admin in the session answer', async () => {
    const moved = await startTestGateway({ config: { ...gatewayConfig({ assetsDir, path: '/ops/console' }), admin: { prefix: '/ops/admin' } } });
    try {
      expect((await send(`${moved.url}/ops/console`)).headers.location).toBe('/ops/console/');
      const page = await send(`${moved.url}/ops/console/`);
      expect(page.status).toBe(200);
      // What the browser loads for ./assets/index-4f2a9c.js from /ops/console/.
      const script = new URL('./assets/index-4f2a9c.js', `${moved.url}/ops/console/`).href;
      expect(script).toBe(`${moved.url}/ops/console/assets/index-4f2a9c.js`);
      expect((await send(script)).status).toBe(200);
      const deep = await send(`${moved.url}/ops/console/keys`);
      expect([deep.status, deep.headers.location]).toEqual([302, '/ops/console/#/keys']);
      expect((await send(`${moved.url}/console/`)).status, 'nothing at the default path').toBe(404);

      const key = await moved.createKey(['admin']);
      const ip = freshIp();
      const signedIn = await send(`${moved.url}/ops/console/api/session`, { method: 'POST', headers: browser(ip, { 'content-type': 'application/json' }), body: JSON.stringify({ key: key.key }) });
      expect(signedIn.status, signedIn.text).toBe(201);
      expect(signedIn.json()).toMatchObject({ adminPrefix: '/ops/admin', keyId: key.id });
      const cookie = ([signedIn.headers['set-cookie']].flat().find((value) => value?.startsWith('__Host-bulwark-console=')) ?? '').split(';')[0] ?? '';
      expect((await send(`${moved.url}/ops/console/api/session`, { headers: browser(ip, { cookie }) })).json()).toMatchObject({ adminPrefix: '/ops/admin' });
      const keys = await send(`${moved.url}/ops/admin/keys`, { headers: browser(ip, { cookie }) });
      expect(keys.status).toBe(200);
      expect(keys.json<{ records: { id: string }[] }>().records.map((record) => record.id)).toContain(key.id);
    } finally {
      await moved.close();
    }
  });
});

describe('what the console pages read', () => {
  it('GET /admin/overview: the sampling interval, the samples and the totals now', async () => {
    const overview = await send(`${gateway.url}/admin/overview`, { headers: { 'x-api-key': admin.key } });
    expect(overview.status).toBe(200);
    const body = overview.json<{ intervalMs: number; samples: unknown[]; now: Record<string, unknown> }>();
    expect(body.intervalMs).toBe(5000);
    expect(Array.isArray(body.samples)).toBe(true);
    expect(body.now).toMatchObject({ at: expect.any(String), requests: expect.any(Number), errors: expect.any(Number), rejections: expect.any(Number), openBreakers: 0, breakers: 1 });
  });

  it('GET /admin/breakers: recent transitions; GET /admin/limits: decisions by result', async () => {
    const headers = { 'x-api-key': admin.key };
    await send(`${gateway.url}/admin/breakers/api/open`, { method: 'POST', headers });
    await send(`${gateway.url}/admin/breakers/api/close`, { method: 'POST', headers });
    const breakers = (await send(`${gateway.url}/admin/breakers`, { headers })).json<{ breakers: { api: { state: string; transitions: { at: string; from: string; to: string }[] } } }>();
    const transitions = breakers.breakers.api.transitions;
    expect(transitions.slice(-2).map((transition) => `${transition.from}>${transition.to}`)).toEqual(['closed>open', 'open>closed']);
    expect(Number.isNaN(Date.parse(transitions[0]?.at ?? ''))).toBe(false);

    const key = await gateway.createKey(['orders']);
    await send(`${gateway.url}/api/x`, { headers: { 'x-api-key': key.key } });
    const limits = (await send(`${gateway.url}/admin/limits`, { headers })).json<{ limits: { name: string; decisions: Record<string, number>; fallback: number; shadow: number }[] }>();
    expect(limits.limits.find((limit) => limit.name === 'api-per-ip')).toMatchObject({ decisions: { ok: expect.any(Number) }, fallback: 0, shadow: 0 });
  });
});
