import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestGateway, type TestGateway } from '../support/gateway.js';
import { rawRequest } from '../support/raw-http.js';
import { assertSafe } from '../support/security-suite.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** Health, metrics, CSP reports, security headers, trusted proxies and the HTTPS redirect. */

const METRIC_NAMES = [
  'http_requests_total',
  'http_request_duration_seconds',
  'auth_failures_total',
  'cors_rejected_total',
  'ratelimit_requests_total',
  'ratelimit_rejected_total',
  'ratelimit_memory_store_entries',
  'ratelimit_memory_store_max_size',
  'circuit_breaker_state',
  'circuit_breaker_requests_total',
  'circuit_breaker_latency_seconds',
  'process_cpu_seconds_total',
];

let upstream: TestUpstream;
let gateway: TestGateway;
const token = randomBytes(24).toString('base64url');

beforeAll(async () => {
  upstream = await startUpstream();
  gateway = await startTestGateway({
    config: {
      server: { trustedProxies: ['loopback'], httpsRedirect: true },
      upstreams: { api: { url: upstream.url, required: true, healthPath: '/status/204' } },
      routes: [
        { name: 'api', match: { prefix: '/api' }, upstream: 'api', auth: { type: 'apiKey' }, rateLimits: [{ limit: 100, window: '1m', by: 'apiKey' }] },
        { name: 'open', match: { prefix: '/open' }, upstream: 'api', public: true, cors: { origins: ['https://app.example.com'] } },
      ],
      metrics: { token, allowedIps: ['loopback'] },
    },
  });
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

const https = { 'x-forwarded-proto': 'https' };

describe('health', () => {
  it('/health is public and shows the status and the names of the checks only', async () => {
    const response = await send(`${gateway.url}/health`);
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', checks: ['upstream:api'] });
  });

  // Regression: without Host, /health went to the route table (404, or the upstream under a catch-all
  // route). HTTP/1.0 does not require Host, and load balancers' health checks often send none
  // (HAProxy's `option httpchk` does by default).
  it('answers an HTTP/1.0 health check without a Host header', async () => {
    const { port } = new URL(gateway.url);
    const live = await rawRequest(Number(port), 'GET /health/live HTTP/1.0\r\n\r\n');
    expect(live.status).toBe(200);
    expect(JSON.parse(live.response.slice(live.response.indexOf('\r\n\r\n') + 4))).toEqual({ status: 'ok' });
    const summary = await rawRequest(Number(port), 'GET /health HTTP/1.0\r\n\r\n');
    expect(summary.status).toBe(200);
    // HTTP/1.1 still requires Host (RFC 9112 §3.2): a 400 problem, whatever the path.
    const withoutHost = await rawRequest(Number(port), 'GET /health/live HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(withoutHost.status).toBe(400);
    expect(withoutHost.response).toContain('application/problem+json');
  });

  it('/health/live answers while the process runs; /health/ready follows the required upstream', async () => {
    expect((await send(`${gateway.url}/health/live`)).json()).toEqual({ status: 'ok' });
    expect((await send(`${gateway.url}/health/ready`)).json()).toEqual({ status: 'ready', checks: { 'upstream:api': 'up' } });
    upstream.handle((_request, response) => {
      response.writeHead(503);
      response.end();
    });
    try {
      // Readiness results are cached for `health.cacheMs` (1 s by default): poll until the change shows.
      let ready = await send(`${gateway.url}/health/ready`);
      const deadline = Date.now() + 5000;
      while (ready.status !== 503 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        ready = await send(`${gateway.url}/health/ready`);
      }
      expect(ready.status).toBe(503);
      expect(ready.json()).toEqual({ status: 'not_ready', checks: { 'upstream:api': 'down' } });
    } finally {
      upstream.handle(undefined);
    }
  });

  it('/health/summary and /metrics need the token (and an allowed address)', async () => {
    for (const path of ['/health/summary', '/metrics']) {
      const refused = await send(`${gateway.url}${path}`);
      assertSafe(refused, path);
      expect(refused.status).toBe(403);
      expect(refused.json().code).toBe('METRICS_FORBIDDEN');
      const wrong = await send(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${token}x` } });
      expect(wrong.status).toBe(403);
      const ok = await send(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status, path).toBe(200);
    }
    const summary = (await send(`${gateway.url}/health/summary`, { headers: { authorization: `Bearer ${token}` } })).json<{ breakers: Record<string, { state: string }>; stores: { rateLimits: string } }>();
    expect(summary.breakers.api?.state).toBe('closed');
    expect(summary.stores.rateLimits).toBe('memory');
  });
});

describe('metrics', () => {
  it('exposes every metric of the design, with bounded labels only', async () => {
    const { key } = await gateway.createKey([]);
    await send(`${gateway.url}/api/x`, { headers: { ...https, 'x-api-key': key } });
    await send(`${gateway.url}/api/x`, { headers: { ...https, 'x-api-key': 'bw_test_nope' } });
    await send(`${gateway.url}/open/x`, { headers: { ...https, origin: 'https://evil.example' } });
    const text = (await send(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text;
    for (const name of METRIC_NAMES) expect(text, name).toContain(`${name}`);
    expect(text).toMatch(/http_requests_total\{route="api",method="GET",status="200"\} \d+/);
    expect(text).toMatch(/auth_failures_total\{scheme="api_key",reason="malformed"\} \d+/);
    expect(text).not.toContain(key);
    expect(text).not.toContain('127.0.0.1');
  });
});

describe('edges', () => {
  it('redirects plain HTTP to HTTPS with 308 (as the trusted proxy reports it), but not the health and metrics endpoints', async () => {
    const redirected = await send(`${gateway.url}/api/x?y=1`, { headers: { host: 'api.example.com' } });
    expect(redirected.status).toBe(308);
    expect(redirected.headers.location).toBe('https://api.example.com/api/x?y=1');
    expect((await send(`${gateway.url}/health`)).status).toBe(200);
    const hostile = await send(`${gateway.url}/api/x`, { headers: { host: 'evil.example/<x>' } });
    assertSafe(hostile, 'hostile host');
    expect(hostile.status).toBe(400);
  });

  it('believes X-Forwarded-For only from trusted proxies, and forwards the client address', async () => {
    const { key } = await gateway.createKey([]);
    await send(`${gateway.url}/api/x`, { headers: { ...https, 'x-api-key': key, 'x-forwarded-for': '203.0.113.7' } });
    expect(upstream.seen.at(-1)?.headers['x-real-ip']).toBe('203.0.113.7');
    expect(upstream.seen.at(-1)?.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
  });

  it('puts the security headers, computed once, on every response: proxied, errors and the gateway own', async () => {
    for (const [path, headers] of [['/api/x', https], ['/nope', https], ['/health', {}], ['/metrics', {}]] as const) {
      const response = await send(`${gateway.url}${path}`, { headers });
      expect(response.headers['content-security-policy'], path).toContain("default-src 'none'");
      expect(response.headers['content-security-policy'], path).toContain('report-uri /csp-report');
      expect(response.headers['strict-transport-security'], path).toMatch(/^max-age=\d+/);
      expect(response.headers['x-content-type-options'], path).toBe('nosniff');
      expect(response.headers['x-frame-options'], path).toBe('DENY');
      expect(response.headers['referrer-policy'], path).toBe('no-referrer');
      expect(response.headers['permissions-policy'], path).toBeDefined();
      expect(response.headers['x-request-id'], path).toBeDefined();
    }
  });

  it('accepts CSP reports (public, bounded, rate limited) and logs their essentials', async () => {
    const report = JSON.stringify({ 'csp-report': { 'violated-directive': 'script-src', 'blocked-uri': 'https://evil.example/x.js', 'document-uri': 'https://app.example.com/' } });
    const response = await send(`${gateway.url}/csp-report`, { method: 'POST', headers: { ...https, 'content-type': 'application/csp-report' }, body: report });
    expect(response.status).toBe(204);
    expect(gateway.logs.lines.some((line) => line.msg === 'content security policy violation' && JSON.stringify(line).includes('script-src'))).toBe(true);
    const polluted = await send(`${gateway.url}/csp-report`, { method: 'POST', headers: { ...https, 'content-type': 'application/csp-report' }, body: '{"__proto__":{"a":1}}' });
    expect(polluted.status).toBe(400);
    const huge = await send(`${gateway.url}/csp-report`, { method: 'POST', headers: { ...https, 'content-type': 'application/csp-report' }, body: 'x'.repeat(20_000) });
    expect(huge.status).toBe(413);
  });

  it('logs each request with its id, route, status and key id, never the key', async () => {
    const { key, id } = await gateway.createKey([]);
    const response = await send(`${gateway.url}/api/logged`, { headers: { ...https, 'x-api-key': key } });
    const line = gateway.logs.lines.find((entry) => entry.msg === 'request' && entry.requestId === response.headers['x-request-id']);
    expect(line).toMatchObject({ route: 'api', status: 200, keyId: id, path: '/api/logged', method: 'GET' });
    expect(typeof line?.durationMs).toBe('number');
    expect(gateway.logs.raw.join('\n')).not.toContain(key);
  });
});
