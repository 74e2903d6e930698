import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestGateway, type TestGateway, type TestResponse } from '../support/gateway.js';
import { rawRequest } from '../support/raw-http.js';
import { assertSafe } from '../support/security-suite.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** The proxy over real HTTP: forwarded headers, identity, timeouts, breakers, streaming, CORS, validation. */

let upstream: TestUpstream;
let flaky: TestUpstream;
let gateway: TestGateway;
let closedPort: number;

async function freePortThatRefuses(): Promise<number> {
  const probe = await startUpstream();
  const port = probe.port;
  await probe.close();
  return port;
}

beforeAll(async () => {
  upstream = await startUpstream();
  flaky = await startUpstream();
  closedPort = await freePortThatRefuses();
  gateway = await startTestGateway({
    config: {
      upstreams: {
        api: { url: upstream.url },
        flaky: { url: flaky.url, breaker: { failureThreshold: 2, resetTimeoutMs: 150, halfOpenRequests: 1 } },
        down: { url: `http://127.0.0.1:${closedPort}`, breaker: { enabled: false } },
      },
      routes: [
        { name: 'public', match: { prefix: '/pub' }, upstream: 'api', public: true },
        { name: 'keyed', match: { prefix: '/keyed' }, upstream: 'api', stripPrefix: true, auth: { type: 'apiKey', scopes: ['read'] } },
        { name: 'slow', match: { prefix: '/slow' }, upstream: 'api', public: true, timeoutMs: 150 },
        { name: 'flaky', match: { prefix: '/flaky' }, upstream: 'flaky', public: true },
        { name: 'down', match: { prefix: '/down' }, upstream: 'down', public: true },
        { name: 'upload', match: { path: '/upload', methods: ['POST'] }, upstream: 'api', public: true, bodyLimit: '1kb', safeJson: false },
        { name: 'cors', match: { prefix: '/cors' }, upstream: 'api', public: true, cors: { origins: ['https://app.example.com'], developmentPorts: [5173], credentials: true } },
        {
          name: 'validated',
          match: { path: '/validated', methods: ['POST'] },
          upstream: 'api',
          public: true,
          validation: { body: { type: 'object', required: ['n'], additionalProperties: false, properties: { n: { type: 'integer', maximum: 10 } } }, query: { type: 'object', properties: { page: { type: 'integer', minimum: 1 } } } },
        },
      ],
    },
  });
});

afterAll(async () => {
  await gateway.close();
  await Promise.all([upstream.close(), flaky.close()]);
});

const seenLast = (): { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: string } => {
  const last = upstream.seen.at(-1);
  if (last === undefined) throw new Error('the upstream saw nothing');
  return last;
};

/** Retries `attempt` until `done` holds (bounded): for a state that changes with time, not a fixed sleep. */
async function eventually(attempt: () => Promise<TestResponse>, done: (response: TestResponse) => boolean, timeoutMs = 5000): Promise<TestResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await attempt();
    if (done(response) || Date.now() > deadline) return response;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('forwarding', () => {
  it('sends the identity it authenticated and never the credential, nor identity headers a client forged', async () => {
    const { key, id } = await gateway.createKey(['read', 'extra'], { tenant: 'acme' });
    const response = await send(`${gateway.url}/keyed/orders?x=1`, {
      headers: { authorization: `Bearer ${key}`, 'x-bulwark-key-id': 'forged', 'x-bulwark-tenant': 'forged', 'x-bulwark-scopes': 'admin', 'x-bulwark-whatever': '1' },
    });
    expect(response.status).toBe(200);
    const seen = seenLast();
    expect(seen.url).toBe('/orders?x=1');
    expect(seen.headers).toMatchObject({ 'x-bulwark-key-id': id, 'x-bulwark-tenant': 'acme', 'x-bulwark-scopes': 'read extra' });
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['x-bulwark-whatever']).toBeUndefined();
    expect(JSON.stringify(seen.headers)).not.toContain(key);
    const viaHeader = await send(`${gateway.url}/keyed/x`, { headers: { 'x-api-key': key, authorization: 'Bearer upstream-token' } });
    expect(viaHeader.status).toBe(200);
    expect(seenLast().headers['x-api-key']).toBeUndefined();
    expect(seenLast().headers.authorization).toBe('Bearer upstream-token');
  });

  it('enforces the limits an API key carries itself, on top of the route limits', async () => {
    const created = await gateway.running.services.keyStore.create({ name: 'limited', tenant: 'acme', scopes: ['read'], limits: [{ limit: 2, windowMs: 60_000 }] });
    const headers = { 'x-api-key': created.key };
    expect((await send(`${gateway.url}/keyed/a`, { headers })).status).toBe(200);
    expect((await send(`${gateway.url}/keyed/a`, { headers })).status).toBe(200);
    const refused = await send(`${gateway.url}/keyed/a`, { headers });
    assertSafe(refused, 'key limit');
    expect(refused.status).toBe(429);
    expect(refused.headers['ratelimit-policy']).toContain('"key.2.60";q=2;w=60');
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
  });

  it('accepts a well-formed X-Request-ID, replaces a hostile one, and forwards and echoes it', async () => {
    const kept = await send(`${gateway.url}/pub/a`, { headers: { 'x-request-id': 'trace-123.abc:9' } });
    expect(kept.headers['x-request-id']).toBe('trace-123.abc:9');
    expect(seenLast().headers['x-request-id']).toBe('trace-123.abc:9');
    const replaced = await send(`${gateway.url}/pub/a`, { headers: { 'x-request-id': 'bad id with spaces <script>' } });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(seenLast().headers['x-request-id']).toBe(replaced.headers['x-request-id']);
  });

  it('sets X-Forwarded-For/Proto/Host from the connection, ignoring what an untrusted client claims', async () => {
    await send(`${gateway.url}/pub/a`, { headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', 'x-real-ip': '6.6.6.6' } });
    expect(seenLast().headers).toMatchObject({ 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-real-ip': '127.0.0.1' });
    expect(seenLast().headers['x-forwarded-host']).toBe(new URL(gateway.url).host);
    expect(seenLast().headers.host).toBe(new URL(upstream.url).host);
  });

  // Regression: a pipelined request's response has no socket yet; remembering it by
  // `response.socket` threw in the request handler and ended the process.
  it('answers pipelined requests in order, proxied and the gateway\'s own, and stays up', async () => {
    const head = 'GET /pub/one HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /pub/two HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';
    const { response } = await rawRequest(Number(new URL(gateway.url).port), head);
    // A response follows the previous body directly (no line break of its own).
    expect(response.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 200']);
    expect(response.indexOf('"/pub/one"')).toBeGreaterThan(-1);
    expect(response.indexOf('"/pub/one"')).toBeLessThan(response.indexOf('{"status":"ok"}'));
    expect(response.indexOf('{"status":"ok"}')).toBeLessThan(response.indexOf('"/pub/two"'));
    expect((await send(`${gateway.url}/pub/after`)).status).toBe(200);
  });

  it('refuses TRACE on a route that accepts every method, before the upstream', async () => {
    const before = upstream.seen.length;
    const { response } = await rawRequest(Number(new URL(gateway.url).port), 'TRACE /pub/trace HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: session=secret\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 405/);
    expect(response).toMatch(/application\/problem\+json/);
    expect(response).not.toContain('session=secret');
    expect(upstream.seen.length).toBe(before);
  });

  it('removes hop-by-hop headers in both directions, and the gateway headers win over the upstream', async () => {
    const { response } = await rawRequest(
      Number(new URL(gateway.url).port),
      'GET /pub/hop HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close, x-client-hop\r\nX-Client-Hop: secret\r\nTE: trailers\r\nProxy-Authorization: Basic eDp5\r\nKeep-Alive: timeout=1\r\n\r\n',
    );
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    const seen = seenLast().headers;
    for (const name of ['x-client-hop', 'te', 'proxy-authorization', 'keep-alive']) expect(seen[name], name).toBeUndefined();
    expect(response).not.toMatch(/x-upstream-hop/i);
    expect(response).not.toMatch(/x-powered-by/i);
    expect(response).toMatch(/content-security-policy: default-src 'none'/i);
    expect(response).not.toMatch(/default-src \*/);
  });

  it('streams an unparsed body through, and stops a chunked one at the limit with 413', async () => {
    const ok = await send(`${gateway.url}/upload`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b\n1,2\n' });
    expect(ok.status).toBe(200);
    expect(seenLast().body).toBe('a,b\n1,2\n');
    const port = Number(new URL(gateway.url).port);
    const chunk = 'x'.repeat(600);
    const chunked = `POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n${(600).toString(16)}\r\n${chunk}\r\n${(600).toString(16)}\r\n${chunk}\r\n0\r\n\r\n`;
    const refused = await rawRequest(port, chunked);
    expect(refused.status).toBe(413);
    expect(refused.response).toMatch(/"code":"PAYLOAD_TOO_LARGE"/);
  });

  // Regression: `Expect` was forwarded, undici refuses to send it (UND_ERR_NOT_SUPPORTED), and the
  // request — which curl sends this way for large uploads — became a 502 counted by the breaker.
  it('forwards a body sent with Expect: 100-continue, without the Expect header', async () => {
    const port = Number(new URL(gateway.url).port);
    const head = 'POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: text/csv\r\nContent-Length: 8\r\nExpect: 100-continue\r\n\r\n';
    const { response } = await rawRequest(port, head, 'a,b\n1,2\n');
    expect(response).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(seenLast().body).toBe('a,b\n1,2\n');
    expect(seenLast().headers.expect).toBeUndefined();
    expect(gateway.running.gateway.breakers.get('api')?.state).toBe('closed');
  });
});

describe('upstream failures', () => {
  it('answers 504 UPSTREAM_TIMEOUT when the upstream does not answer within the route timeout', async () => {
    const response = await send(`${gateway.url}/slow/hang`);
    assertSafe(response, 'timeout');
    expect(response.status).toBe(504);
    expect(response.json().code).toBe('UPSTREAM_TIMEOUT');
  });

  it('answers 503 with Retry-After when the upstream refuses connections', async () => {
    const response = await send(`${gateway.url}/down/x`);
    assertSafe(response, 'down');
    expect(response.status).toBe(503);
    expect(response.json().code).toBe('UPSTREAM_UNAVAILABLE');
    expect(response.headers['retry-after']).toBeDefined();
  });

  it('opens the breaker after repeated 5xx (503 without calling the upstream), then recovers', async () => {
    flaky.handle((_request, response) => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('boom');
    });
    expect((await send(`${gateway.url}/flaky/a`)).status).toBe(500);
    expect((await send(`${gateway.url}/flaky/a`)).status).toBe(500);
    const before = flaky.seen.length;
    const open = await send(`${gateway.url}/flaky/a`);
    assertSafe(open, 'breaker open');
    expect(open.status).toBe(503);
    expect(open.json().code).toBe('UPSTREAM_UNAVAILABLE');
    expect(Number(open.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(flaky.seen.length).toBe(before);

    flaky.handle(undefined);
    const recovered = await eventually(
      () => send(`${gateway.url}/flaky/a`),
      (response) => response.status === 200,
    );
    expect(recovered.status).toBe(200);
    expect(gateway.running.gateway.breakers.get('flaky')?.state).toBe('closed');
  });
});

describe('CORS', () => {
  it('answers an allowed preflight itself, with exact origin and no wildcard', async () => {
    const response = await send(`${gateway.url}/cors/x`, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-api-key' } });
    expect(response.status).toBe(204);
    expect(response.headers).toMatchObject({ 'access-control-allow-origin': 'https://app.example.com', 'access-control-allow-credentials': 'true' });
    expect(String(response.headers['access-control-allow-methods'])).toContain('POST');
    expect(String(response.headers.vary)).toContain('Origin');
    const seenBefore = upstream.seen.length;
    expect(upstream.seen.length).toBe(seenBefore);
  });

  it('refuses other origins (preflight and actual request) with 403 and counts them', async () => {
    for (const headers of [{ origin: 'https://evil.example', 'access-control-request-method': 'GET' }, { origin: 'https://evil.example' }, { origin: 'http://localhost:3000' }]) {
      const response = await send(`${gateway.url}/cors/x`, { method: headers['access-control-request-method'] === undefined ? 'GET' : 'OPTIONS', headers });
      assertSafe(response, JSON.stringify(headers));
      expect(response.status).toBe(403);
      expect(response.json().code).toBe('CORS_ORIGIN_REJECTED');
    }
    const metrics = await gateway.running.gateway.metrics.registry.getSingleMetricAsString('cors_rejected_total');
    expect(metrics).toMatch(/cors_rejected_total\{reason="origin-not-allowed"\} [3-9]/);
  });

  // Regression: a request without Origin got no Vary: Origin, so a shared cache could store that
  // answer (without Access-Control-Allow-Origin) and serve it to the allowed origin's requests.
  it('sends Vary: Origin on answers to requests without an Origin or from the same origin', async () => {
    const withoutOrigin = await send(`${gateway.url}/cors/x`);
    expect(withoutOrigin.status).toBe(200);
    expect(withoutOrigin.headers['access-control-allow-origin']).toBeUndefined();
    expect(String(withoutOrigin.headers.vary)).toMatch(/\bOrigin\b/i);
    const sameOrigin = await send(`${gateway.url}/cors/x`, { headers: { origin: gateway.url } });
    expect(sameOrigin.status).toBe(200);
    expect(String(sameOrigin.headers.vary)).toMatch(/\bOrigin\b/i);
  });

  it('outside production, allows localhost on the configured development ports only', async () => {
    const allowed = await send(`${gateway.url}/cors/x`, { headers: { origin: 'http://localhost:5173' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:5173');
  });
});

describe('validation and parsing', () => {
  it('validates the body and the query against the route schemas (422 listing the issues, never the values)', async () => {
    const ok = await send(`${gateway.url}/validated?page=2`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":3}' });
    expect(ok.status).toBe(200);
    expect(seenLast().body).toBe('{"n":3}');
    const bad = await send(`${gateway.url}/validated?page=0`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":"secret-value","extra":1}' });
    assertSafe(bad, 'validation');
    expect(bad.status).toBe(422);
    const problem = bad.json<{ code: string; errors: { path: string }[] }>();
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors.map((issue) => issue.path)).toEqual(expect.arrayContaining(['query.page', 'body.n', 'body']));
    expect(bad.text).not.toContain('secret-value');
    const notJson = await send(`${gateway.url}/validated`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'n=3' });
    expect(notJson.status).toBe(415);
  });

  it('refuses deep and malformed JSON with 400, never a 500', async () => {
    for (const body of ['{"n":', `${'['.repeat(200)}${']'.repeat(200)}`, '{"a":"\\ud800"}']) {
      const response = await send(`${gateway.url}/validated`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assertSafe(response, body.slice(0, 20));
      expect(response.status).toBe(400);
    }
  });

  it('survives malformed requests at the HTTP level with a problem, never a crash', async () => {
    const port = Number(new URL(gateway.url).port);
    const garbage = await rawRequest(port, 'GARBAGE\r\n\r\n');
    expect(garbage.status).toBe(400);
    const absolute = await rawRequest(port, 'GET http://evil.example/pub/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect([400, 404]).toContain(absolute.status);
    expect(absolute.response).toMatch(/application\/problem\+json/);
    const badType = await send(`${gateway.url}/pub/x`, { method: 'POST', headers: { 'content-type': '' }, body: '{}' });
    assertSafe(badType, 'empty content type');
    // The process is still serving.
    expect((await send(`${gateway.url}/pub/alive`)).status).toBe(200);
  });

  it('closes the connection instead of reading a body it refused before reading', async () => {
    const port = Number(new URL(gateway.url).port);
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<string>((resolve) => {
      let data = '';
      socket.on('data', (chunk: Buffer) => {
        data += chunk.toString('utf8');
      });
      socket.on('close', () => resolve(data));
    });
    socket.write('POST /keyed/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000000\r\n\r\npartial');
    const data = await closed;
    expect(data).toMatch(/^HTTP\/1\.1 413/);
    expect(data).toMatch(/connection: close/i);
  });
});
