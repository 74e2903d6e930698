import { describe, expect, it } from 'vitest';
import { buildSecurityHeaders, DEFAULT_DENIED_FEATURES } from './security-headers.js';
import { parseCspReport } from './csp-report.js';

describe('buildSecurityHeaders', () => {
  it('defaults to a locked-down API policy, frozen', () => {
    const headers = buildSecurityHeaders();
    expect(headers['Content-Security-Policy']).toBe(
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; report-uri /csp-report; report-to csp-endpoint",
    );
    expect(headers['Reporting-Endpoints']).toBe('csp-endpoint="/csp-report"');
    expect(headers['Strict-Transport-Security']).toBe('max-age=63072000; includeSubDomains');
    expect(headers['X-Frame-Options']).toBe('DENY');
    expect(headers['X-Content-Type-Options']).toBe('nosniff');
    expect(headers['Referrer-Policy']).toBe('no-referrer');
    expect(headers['Cross-Origin-Opener-Policy']).toBe('same-origin');
    expect(headers['Cross-Origin-Resource-Policy']).toBe('same-origin');
    expect(headers['X-DNS-Prefetch-Control']).toBe('off');
    expect(headers['Cross-Origin-Embedder-Policy']).toBeUndefined();
    for (const feature of ['camera', 'microphone', 'geolocation', 'payment']) expect(headers['Permissions-Policy']).toContain(`${feature}=()`);
    expect(headers['Permissions-Policy']?.split(', ')).toHaveLength(DEFAULT_DENIED_FEATURES.length);
    expect(Object.isFrozen(headers)).toBe(true);
  });

  it('merges CSP directives, removes defaults with false and supports report-only', () => {
    const headers = buildSecurityHeaders({
      contentSecurityPolicy: {
        directives: { 'default-src': ["'self'"], 'img-src': ["'self'", 'https://cdn.example.com', 'data:'], 'form-action': false, 'upgrade-insecure-requests': true },
        reportUri: 'https://reports.example.com/csp',
        reportToGroup: 'main',
        reportOnly: true,
      },
    });
    expect(headers['Content-Security-Policy']).toBeUndefined();
    expect(headers['Content-Security-Policy-Report-Only']).toBe(
      "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; img-src 'self' https://cdn.example.com data:; upgrade-insecure-requests; report-uri https://reports.example.com/csp; report-to main",
    );
    expect(headers['Reporting-Endpoints']).toBe('main="https://reports.example.com/csp"');
    expect(buildSecurityHeaders({ contentSecurityPolicy: { reportUri: false } })['Content-Security-Policy']).not.toContain('report');
  });

  it('configures HSTS and validates preload requirements', () => {
    expect(buildSecurityHeaders({ strictTransportSecurity: { preload: true } })['Strict-Transport-Security']).toBe('max-age=63072000; includeSubDomains; preload');
    expect(buildSecurityHeaders({ strictTransportSecurity: { maxAgeSeconds: 300, includeSubDomains: false } })['Strict-Transport-Security']).toBe('max-age=300');
    expect(() => buildSecurityHeaders({ strictTransportSecurity: { preload: true, includeSubDomains: false } })).toThrow(/preload/);
    expect(() => buildSecurityHeaders({ strictTransportSecurity: { maxAgeSeconds: -1 } })).toThrow(/maxAgeSeconds/);
    expect(buildSecurityHeaders({ strictTransportSecurity: false })['Strict-Transport-Security']).toBeUndefined();
  });

  it('configures the permissions policy', () => {
    const value = buildSecurityHeaders({ permissionsPolicy: { fullscreen: ['self'], payment: ['self', '"https://pay.example.com"'], usb: false, autoplay: ['*'] } })['Permissions-Policy'];
    expect(value).toContain('fullscreen=(self)');
    expect(value).toContain('payment=(self "https://pay.example.com")');
    expect(value).toContain('autoplay=*');
    expect(value).not.toContain('usb');
    expect(buildSecurityHeaders({ permissionsPolicy: false })['Permissions-Policy']).toBeUndefined();
  });

  it('refuses values that would inject directives or headers', () => {
    const injections = [
      { contentSecurityPolicy: { directives: { 'script-src': ["'self'; script-src *"] } } },
      { contentSecurityPolicy: { directives: { 'script-src': ["'self'\r\nSet-Cookie: a=b"] } } },
      { contentSecurityPolicy: { directives: { 'script-src': ['a, b'] } } },
      { contentSecurityPolicy: { directives: { 'Script Src': ["'self'"] } } },
      { contentSecurityPolicy: { directives: { 'script-src': [] } } },
      { contentSecurityPolicy: { directives: { 'report-uri': ['/x'] } } },
      { contentSecurityPolicy: { reportUri: '/csp"; evil' } },
      { contentSecurityPolicy: { reportUri: 'http://insecure.example/csp' } },
      { contentSecurityPolicy: { reportToGroup: 'a b' } },
      { permissionsPolicy: { camera: ['https://evil.com'] } },
      { permissionsPolicy: { 'camera=*, geolocation': ['self'] } },
      { referrerPolicy: 'no-referrer\r\nX: y' },
      { frameOptions: 'ALLOW-FROM https://x' },
      { crossOriginOpenerPolicy: 'same-site' },
    ];
    for (const options of injections) expect(() => buildSecurityHeaders(options as never), JSON.stringify(options)).toThrow(TypeError);
  });

  it('header values never contain line breaks or control characters', () => {
    for (const value of Object.values(buildSecurityHeaders({ permissionsPolicy: { fullscreen: ['self'] } }))) {
      expect(value).toMatch(/^[\x20-\x7e]+$/);
    }
  });
});

describe('parseCspReport', () => {
  it('normalises an application/csp-report body and strips query strings from URLs', () => {
    const body = JSON.stringify({
      'csp-report': {
        'document-uri': 'https://app.example.com/page?token=secret#frag',
        referrer: '',
        'violated-directive': 'script-src-elem',
        'effective-directive': 'script-src-elem',
        'original-policy': "default-src 'none'",
        disposition: 'enforce',
        'blocked-uri': 'https://evil.example/x.js?session=abc',
        'line-number': 12,
        'column-number': 3,
        'status-code': 200,
        'script-sample': '',
      },
    });
    expect(parseCspReport(body)).toEqual({
      ok: true,
      violations: [
        {
          documentUrl: 'https://app.example.com/page?…',
          blockedUrl: 'https://evil.example/x.js?…',
          effectiveDirective: 'script-src-elem',
          originalPolicy: "default-src 'none'",
          disposition: 'enforce',
          lineNumber: 12,
          columnNumber: 3,
          statusCode: 200,
        },
      ],
    });
  });

  it('normalises an application/reports+json batch, skipping other report types', () => {
    const body = JSON.stringify([
      { type: 'deprecation', body: { id: 'x' } },
      {
        type: 'csp-violation',
        age: 10,
        url: 'https://app.example.com/',
        user_agent: 'Mozilla/5.0',
        body: { documentURL: 'https://app.example.com/', blockedURL: 'inline', effectiveDirective: 'script-src-elem', disposition: 'report', sample: 'alert(1)', lineNumber: 1 },
      },
    ]);
    expect(parseCspReport(Buffer.from(body))).toEqual({
      ok: true,
      violations: [
        { documentUrl: 'https://app.example.com/', blockedUrl: 'inline', effectiveDirective: 'script-src-elem', disposition: 'report', sample: 'alert(1)', lineNumber: 1, userAgent: 'Mozilla/5.0' },
      ],
    });
  });

  it('bounds hostile reports: size, batch length, field length, control characters, prototype keys', () => {
    expect(parseCspReport('x'.repeat(70_000))).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
    const batch = JSON.stringify(Array.from({ length: 100 }, () => ({ type: 'csp-violation', body: { effectiveDirective: 'img-src' } })));
    const many = parseCspReport(batch);
    expect(many.ok && many.violations).toHaveLength(20);
    const forged = parseCspReport(JSON.stringify({ 'csp-report': { 'effective-directive': `img-src\n{"level":"fatal","msg":"forged"}\u2028x`, 'original-policy': 'p'.repeat(5000) } }));
    expect(forged.ok).toBe(true);
    if (forged.ok) {
      expect(forged.violations[0]?.effectiveDirective).not.toMatch(/[\n\u2028]/);
      expect(forged.violations[0]?.originalPolicy).toHaveLength(512);
      expect(forged.violations[0]?.originalPolicy?.endsWith('…')).toBe(true);
    }
    expect(parseCspReport('{"csp-report":{"__proto__":{"x":1}}}')).toMatchObject({ ok: false, code: 'FORBIDDEN_KEY' });
    expect(parseCspReport('[[[[[[[[[[1]]]]]]]]]]')).toMatchObject({ ok: false, code: 'JSON_TOO_DEEP' });
    expect(parseCspReport('{"something":"else"}')).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(parseCspReport('not json')).toMatchObject({ ok: false, code: 'JSON_MALFORMED' });
    expect(parseCspReport('{"csp-report":{"line-number":"12","column-number":-1}}')).toEqual({ ok: true, violations: [{}] });
  });

  it('measures a string body in UTF-8 bytes against maxBytes, as it does a Buffer', () => {
    // 30 000 characters, 90 000 bytes: over the 65 536-byte default however it arrives.
    const body = JSON.stringify({ 'csp-report': { 'script-sample': '€'.repeat(30_000) } });
    expect(parseCspReport(Buffer.from(body))).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
    expect(parseCspReport(body)).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('answers a missing body (no body parser ran) with a refusal instead of throwing', () => {
    for (const body of [undefined, null, {}]) {
      expect(parseCspReport(body as unknown as string)).toMatchObject({ ok: false, code: 'JSON_MALFORMED' });
    }
  });

  it('validates its options', () => {
    expect(() => parseCspReport('{}', { maxBytes: 0 })).toThrow(/maxBytes/);
    expect(() => parseCspReport('{}', { maxViolations: 1.5 })).toThrow(/maxViolations/);
  });
});
