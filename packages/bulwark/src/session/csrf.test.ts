import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { createKeyring, generateMasterKey, parseMasterKey } from '../crypto/index.js';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { createCsrfProtection, csrfSecrets } from './csrf.js';
import type { CsrfOptions } from './csrf.js';
import type { HeaderBag } from './types.js';

const secret = randomBytes(32);
const make = (options: Partial<CsrfOptions> = {}) => createCsrfProtection({ secrets: [secret], registry: createMetricsRegistry({ defaultMetrics: false }), ...options });
const HOST = 'app.example.com';
const session = { id: 'S'.repeat(43) };

/** Every way a body's type can be spelled, including none: the check must not depend on any of them. */
const CONTENT_TYPES = [
  undefined,
  '',
  'text/plain',
  'TEXT/PLAIN',
  'text/plain;charset=UTF-8',
  'application/x-www-form-urlencoded',
  'Application/X-WWW-Form-Urlencoded; charset=utf-8',
  'multipart/form-data; boundary=----x',
  'application/json',
  'APPLICATION/JSON',
  'application/json ; charset=utf-8',
  'application/csp-report',
];
const UNSAFE = ['POST', 'PUT', 'PATCH', 'DELETE', 'post', 'PROPFIND'];

function headers(extra: Record<string, string | undefined>, contentType?: string): HeaderBag {
  return { host: HOST, ...(contentType === undefined ? {} : { 'content-type': contentType }), ...extra };
}

async function rejected(registry: Registry, labels: Record<string, string>): Promise<number> {
  const metric = await registry.getSingleMetric('csrf_rejected_total')?.get();
  return metric?.values.find((entry) => Object.entries(labels).every(([key, value]) => entry.labels[key] === value))?.value ?? 0;
}

describe('CSRF origin layer', () => {
  const csrf = make();

  it('refuses a cross-site unsafe request whatever its Content-Type spelling (Fetch Metadata)', () => {
    for (const method of UNSAFE) {
      for (const contentType of CONTENT_TYPES) {
        const request = { method, headers: headers({ 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }, contentType) };
        expect(csrf.check(request, undefined)).toEqual({ ok: false, reason: 'cross_site' });
        expect(csrf.check(request, session)).toEqual({ ok: false, reason: 'cross_site' });
      }
    }
  });

  it('refuses a cross-origin unsafe request from a browser without Fetch Metadata (Origin fallback), whatever its Content-Type', () => {
    for (const contentType of CONTENT_TYPES) {
      for (const origin of ['https://evil.example', 'null', 'https://app.example.com.evil.example', 'http://app.example.com:8080', 'not a url', 'https://evil.example, https://app.example.com']) {
        expect(csrf.check({ method: 'POST', headers: headers({ origin }, contentType) }, undefined)).toEqual({ ok: false, reason: 'cross_site' });
      }
    }
  });

  it('allows same-origin requests, and user-initiated ones (Sec-Fetch-Site: none)', () => {
    for (const contentType of CONTENT_TYPES) {
      expect(csrf.check({ method: 'POST', headers: headers({ 'sec-fetch-site': 'same-origin', origin: `https://${HOST}` }, contentType) }, undefined)).toEqual({ ok: true });
      expect(csrf.check({ method: 'POST', headers: headers({ 'sec-fetch-site': 'none' }, contentType) }, undefined)).toEqual({ ok: true });
      expect(csrf.check({ method: 'POST', headers: headers({ origin: `https://${HOST}` }, contentType) }, undefined)).toEqual({ ok: true });
    }
    // Default ports and letter case do not matter.
    expect(csrf.check({ method: 'POST', headers: { host: 'APP.example.com:443', origin: 'https://app.example.com' } }, undefined)).toEqual({ ok: true });
  });

  it('refuses same-site (a sibling subdomain) unless allowSameSite, and lets trusted origins in', () => {
    const sibling = headers({ 'sec-fetch-site': 'same-site', origin: 'https://blog.example.com' });
    expect(csrf.check({ method: 'POST', headers: sibling }, undefined)).toEqual({ ok: false, reason: 'cross_site' });
    expect(make({ allowSameSite: true }).check({ method: 'POST', headers: sibling }, undefined)).toEqual({ ok: true });
    const trusting = make({ trustedOrigins: ['https://admin.example.net'] });
    expect(trusting.check({ method: 'POST', headers: headers({ 'sec-fetch-site': 'cross-site', origin: 'https://admin.example.net' }) }, undefined)).toEqual({ ok: true });
    expect(trusting.check({ method: 'POST', headers: headers({ origin: 'https://ADMIN.example.net:443' }) }, undefined)).toEqual({ ok: true });
    expect(trusting.check({ method: 'POST', headers: headers({ 'sec-fetch-site': 'cross-site', origin: 'http://admin.example.net' }) }, undefined)).toMatchObject({ ok: false });
  });

  it('refuses unknown and repeated Sec-Fetch-Site values', () => {
    for (const value of ['cross-site, same-origin', 'same-origin, cross-site', 'whatever', '']) {
      expect(csrf.check({ method: 'POST', headers: headers({ 'sec-fetch-site': value }) }, undefined)).toMatchObject({ ok: false, reason: 'cross_site' });
    }
  });

  it('allows requests with neither header (not a browser), and never checks safe methods', () => {
    expect(csrf.check({ method: 'POST', headers: { host: HOST } }, undefined)).toEqual({ ok: true });
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'get', undefined]) {
      expect(csrf.check({ method, headers: headers({ 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }) }, session)).toEqual({ ok: true });
    }
  });
});

describe('CSRF token layer', () => {
  it('with a session, requires the signed token bound to it, matching the double-submit cookie', () => {
    const csrf = make();
    const token = csrf.issueToken(session.id);
    const cookie = `__Host-csrf=${token}`;
    const sameOrigin = { 'sec-fetch-site': 'same-origin' };
    expect(csrf.check({ method: 'POST', headers: headers({ ...sameOrigin, cookie }) }, session)).toEqual({ ok: false, reason: 'missing' });
    expect(csrf.check({ method: 'POST', headers: headers({ ...sameOrigin, cookie, 'x-csrf-token': token }) }, session)).toEqual({ ok: true });
    expect(csrf.check({ method: 'POST', headers: headers({ ...sameOrigin, cookie }), body: { _csrf: token } }, session)).toEqual({ ok: true });
    // Header present but the cookie is gone or different.
    expect(csrf.check({ method: 'POST', headers: headers({ ...sameOrigin, 'x-csrf-token': token }) }, session)).toEqual({ ok: false, reason: 'invalid' });
    const other = csrf.issueToken(session.id);
    expect(csrf.check({ method: 'POST', headers: headers({ ...sameOrigin, cookie: `__Host-csrf=${other}`, 'x-csrf-token': token }) }, session)).toEqual({ ok: false, reason: 'invalid' });
    // A token of another session does not verify, even with a matching cookie.
    const foreign = csrf.issueToken('T'.repeat(43));
    expect(csrf.check({ method: 'POST', headers: headers({ ...sameOrigin, cookie: `__Host-csrf=${foreign}`, 'x-csrf-token': foreign }) }, session)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('takes the form field only from a plain parsed body', () => {
    const csrf = make({ cookie: false });
    const token = csrf.issueToken(session.id);
    const request = (body: unknown) => ({ method: 'POST', headers: headers({ 'sec-fetch-site': 'same-origin' }), body });
    expect(csrf.check(request({ _csrf: token }), session)).toEqual({ ok: true });
    for (const body of [[token], { _csrf: [token] }, Object.create({ _csrf: token }) as object, `_csrf=${token}`, null]) {
      expect(csrf.check(request(body), session)).toEqual({ ok: false, reason: 'missing' });
    }
  });

  it('verifies tokens for the previous id during a renewal, never after a regeneration', () => {
    const csrf = make({ cookie: false });
    const old = csrf.issueToken('O'.repeat(43));
    expect(csrf.verifyToken(old, { id: 'N'.repeat(43), previousId: 'O'.repeat(43) })).toBe(true);
    expect(csrf.verifyToken(old, { id: 'N'.repeat(43) })).toBe(false);
  });

  it('takes its secrets from the keyring, the previous master key’s during a rotation', () => {
    const previous = parseMasterKey(generateMasterKey());
    const before = make({ secrets: csrfSecrets(createKeyring({ current: previous })), cookie: false });
    const during = createKeyring({ current: parseMasterKey(generateMasterKey()), previous });
    expect(csrfSecrets(during)).toHaveLength(2);
    expect(make({ secrets: csrfSecrets(during), cookie: false }).verifyToken(before.issueToken(session.id), session)).toBe(true);
  });

  it('rotates secrets: the first signs, every listed one verifies', () => {
    const oldSecret = randomBytes(32);
    const before = make({ secrets: [oldSecret], cookie: false });
    const during = make({ secrets: [randomBytes(32), oldSecret], cookie: false });
    const token = before.issueToken(session.id);
    expect(during.verifyToken(token, session)).toBe(true);
    expect(before.verifyToken(during.issueToken(session.id), session)).toBe(false);
    expect(make({ cookie: false }).verifyToken(token, session)).toBe(false);
  });

  it('never accepts a token with any character changed, and never throws', () => {
    const csrf = make({ cookie: false });
    const token = csrf.issueToken(session.id);
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(...'ABCabc012-_.'), (index, replacement) => {
        const altered = token.slice(0, index) + replacement + token.slice(index + 1);
        expect(csrf.verifyToken(altered, session)).toBe(altered === token);
      }),
    );
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(csrf.verifyToken(value, session)).toBe(false);
      }),
    );
    expect(csrf.verifyToken(token, { id: '' })).toBe(false);
  });
});

describe('CSRF rollout and options', () => {
  it('in report-only mode lets failures through, logging and counting them', () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
    const csrf = make({ mode: 'report-only', registry, logger });
    const decision = csrf.check({ method: 'POST', headers: headers({ 'sec-fetch-site': 'cross-site' }) }, undefined);
    expect(decision).toEqual({ ok: true, reported: 'cross_site' });
    expect(logger.warn).toHaveBeenCalledWith({ reason: 'cross_site', method: 'POST', mode: 'report-only' }, expect.stringContaining('report-only'));
    return expect(rejected(registry, { reason: 'cross_site', mode: 'report-only' })).resolves.toBe(1);
  });

  it('counts enforced refusals by reason', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const csrf = make({ registry });
    csrf.check({ method: 'POST', headers: headers({ 'sec-fetch-site': 'cross-site' }) }, undefined);
    csrf.check({ method: 'POST', headers: headers({ 'sec-fetch-site': 'same-origin' }) }, session);
    expect(await rejected(registry, { reason: 'cross_site', mode: 'enforce' })).toBe(1);
    expect(await rejected(registry, { reason: 'missing', mode: 'enforce' })).toBe(1);
  });

  it('names the cookie and the Vary headers it needs', () => {
    expect(make().cookieName).toBe('__Host-csrf');
    expect(make({ cookie: { name: 'xsrf' } }).cookieName).toBe('__Host-xsrf');
    expect(make({ cookie: false }).cookieName).toBeUndefined();
    expect(make().varyHeaders).toEqual(['Origin', 'Sec-Fetch-Site']);
    expect(make().tokenCookie('v1.x')).toBe('__Host-csrf=v1.x; Path=/; Secure; SameSite=Lax');
  });

  it('refuses invalid options with a TypeError naming them', () => {
    const cases: [Partial<CsrfOptions>, RegExp][] = [
      [{ secrets: [] }, /secrets/],
      [{ secrets: [Buffer.alloc(16)] }, /secrets\[0\]/],
      [{ secrets: ['x'.repeat(40)] as unknown as Buffer[] }, /secrets\[0\]/],
      [{ trustedOrigins: ['https://a.example/path'] }, /trustedOrigins/],
      [{ trustedOrigins: ['*'] }, /trustedOrigins/],
      [{ trustedOrigins: ['ftp://a.example'] }, /trustedOrigins/],
      [{ mode: 'off' as 'enforce' }, /mode/],
      [{ headerName: 'x csrf' }, /headerName/],
      [{ fieldName: '' }, /fieldName/],
      [{ allowSameSite: 'yes' as unknown as boolean }, /allowSameSite/],
    ];
    for (const [options, message] of cases) expect(() => make(options)).toThrow(message);
  });
});
