import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../errors/api-error.js';
import { errors } from '../errors/factories.js';
import { notFoundHandler, problemErrorHandler } from './errors.js';
import { requestIdMiddleware } from './request-id.js';

interface LogCall {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly message: string | undefined;
}

function recorder() {
  const calls: LogCall[] = [];
  const at = (level: string) => (fields: object, message?: string) => void calls.push({ level, fields: fields as Record<string, unknown>, message });
  return { logger: { fatal: at('fatal'), error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') }, calls };
}

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function serve(configure: (app: Express) => void, options: Parameters<typeof problemErrorHandler>[0] = {}) {
  const log = recorder();
  const app = express();
  app.use(requestIdMiddleware());
  app.use(express.json({ limit: '1kb' }));
  configure(app);
  app.use(notFoundHandler());
  app.use(problemErrorHandler({ logger: log.logger, ...options }));
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  servers.push(server);
  const port = (server.address() as AddressInfo).port;
  const call = (method: string, path: string, body?: string, headers: Record<string, string | string[]> = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  return { call, calls: log.calls };
}

function expectProblem(reply: Reply, status: number, code: string): void {
  expect(reply.status).toBe(status);
  expect(reply.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  expect(reply.headers['cache-control']).toBe('no-store');
  expect(reply.json).toMatchObject({ status, code, type: `urn:bulwark:error:${code.toLowerCase()}` });
  expect(reply.json.requestId).toBe(reply.headers['x-request-id']);
  expect(reply.text).not.toMatch(/"stack"|internalMessage|\.ts:\d+/);
}

describe('problemErrorHandler (Express 5, real HTTP)', () => {
  it('answers an ApiError with its status, code, detail and headers', async () => {
    const { call, calls } = await serve((app) => app.get('/limited', () => { throw errors.rateLimited(7); }));
    const reply = await call('GET', '/limited');
    expectProblem(reply, 429, 'RATE_LIMITED');
    expect(reply.headers['retry-after']).toBe('7');
    expect(reply.json.detail).toBe('Rate limit exceeded; retry in 7 seconds.');
    expect(calls).toEqual([expect.objectContaining({ level: 'info', message: 'RATE_LIMITED: Too many requests' })]);
  });

  it('answers a body over the express.json limit with PAYLOAD_TOO_LARGE', async () => {
    const { call } = await serve((app) => app.post('/echo', (req, res) => void res.json(req.body)));
    const reply = await call('POST', '/echo', JSON.stringify({ data: 'x'.repeat(5000) }));
    expectProblem(reply, 413, 'PAYLOAD_TOO_LARGE');
    expect(reply.json.limitBytes).toBe(1024);
  });

  it('answers malformed JSON with JSON_MALFORMED and never echoes the parser message', async () => {
    const { call } = await serve((app) => app.post('/echo', (req, res) => void res.json(req.body)));
    const reply = await call('POST', '/echo', '{"password":"hunter2",');
    expectProblem(reply, 400, 'JSON_MALFORMED');
    expect(reply.text).not.toContain('hunter2');
    expect(reply.text).not.toMatch(/Unexpected|position/);
  });

  it('answers a plain Error with INTERNAL_ERROR, logs it at fatal with the cause redacted', async () => {
    const { call, calls } = await serve((app) => app.get('/boom', () => { throw new Error('db at postgres://app:pw12345@10.0.0.5 refused'); }));
    const reply = await call('GET', '/boom?token=abcdef');
    expectProblem(reply, 500, 'INTERNAL_ERROR');
    expect(reply.text).not.toMatch(/postgres|refused/);
    const [entry] = calls;
    expect(entry?.level).toBe('fatal');
    expect(entry?.fields).toMatchObject({ code: 'INTERNAL_ERROR', requestId: reply.json.requestId, method: 'GET', path: '/boom', route: '/boom' });
    expect((entry?.fields.err as { message: string }).message).toBe('db at postgres://app:[REDACTED]@10.0.0.5 refused');
  });

  it('answers a thrown string and a rejected null with INTERNAL_ERROR', async () => {
    const { call } = await serve((app) => {
      app.get('/string', () => { throw 'secret string'; });
      app.get('/null', async () => Promise.reject(null));
    });
    for (const path of ['/string', '/null']) {
      const reply = await call('GET', path);
      expectProblem(reply, 500, 'INTERNAL_ERROR');
      expect(reply.text).not.toContain('secret string');
    }
  });

  it('answers an unknown route with NOT_FOUND', async () => {
    const { call } = await serve(() => undefined);
    expectProblem(await call('GET', '/nowhere'), 404, 'NOT_FOUND');
  });

  it('sends headers without a body to HEAD', async () => {
    const { call } = await serve(() => undefined);
    const reply = await call('HEAD', '/nowhere');
    expect(reply.status).toBe(404);
    expect(reply.text).toBe('');
    expect(reply.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  });

  it('drops content headers of the abandoned response', async () => {
    const { call } = await serve((app) =>
      app.get('/half', (_req, res) => {
        res.setHeader('content-encoding', 'gzip');
        res.setHeader('etag', '"abc"');
        throw new ApiError('CONFLICT');
      }),
    );
    const reply = await call('GET', '/half');
    expectProblem(reply, 409, 'CONFLICT');
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.headers.etag).toBeUndefined();
  });

  it('exposes the internal message and stack only with exposeErrors: true', async () => {
    const { call } = await serve((app) => app.get('/boom', () => { throw new Error('internal detail'); }), { exposeErrors: true });
    const reply = await call('GET', '/boom');
    expect(reply.json.internalMessage).toBe('internal detail');
    expect(String(reply.json.stack)).toContain('Error: internal detail');
  });

  it('destroys the connection when the response had already started', async () => {
    const { call, calls } = await serve((app) =>
      app.get('/stream', (_req, res, next) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
        next(new Error('stream broke'));
      }),
    );
    await expect(call('GET', '/stream')).rejects.toThrow();
    expect(calls[0]?.fields.code).toBe('INTERNAL_ERROR');
  });

  it('gives a request id even without the request id middleware', async () => {
    const app = express();
    app.get('/', () => { throw new ApiError('FORBIDDEN'); });
    app.use(problemErrorHandler());
    const server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    servers.push(server);
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { headers: { 'x-request-id': 'trace-42' } });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-request-id')).toBe('trace-42');
    expect(await response.json()).toMatchObject({ requestId: 'trace-42', code: 'FORBIDDEN' });
  });

  it('rejects bad options when created', () => {
    expect(() => problemErrorHandler({ exposeErrors: 'true' as unknown as boolean })).toThrow(TypeError);
  });
});

describe('requestIdMiddleware (Express 5, real HTTP)', () => {
  const configure = (app: Express) => app.get('/id', (req, res) => void res.json({ id: req.requestId }));

  it('accepts a valid incoming id and echoes it', async () => {
    const { call } = await serve(configure);
    const reply = await call('GET', '/id', undefined, { 'x-request-id': 'abc-123:x.y_z' });
    expect(reply.json.id).toBe('abc-123:x.y_z');
    expect(reply.headers['x-request-id']).toBe('abc-123:x.y_z');
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['with spaces', 'abc def'],
    ['with non-ASCII characters', 'caf\u00e9'],
    ['sent twice', ['abc', 'def']],
  ])('replaces an id that is %s with a UUIDv7', async (_label, incoming) => {
    const { call } = await serve(configure);
    const reply = await call('GET', '/id', undefined, { 'x-request-id': incoming as string });
    expect(reply.json.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(reply.headers['x-request-id']).toBe(reply.json.id);
  });

  it('echoes the id on error responses too', async () => {
    const { call } = await serve(() => undefined);
    const reply = await call('GET', '/missing', undefined, { 'x-request-id': 'err-1' });
    expect(reply.headers['x-request-id']).toBe('err-1');
    expect(reply.json.requestId).toBe('err-1');
  });
});
