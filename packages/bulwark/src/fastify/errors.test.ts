import { fastify, type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../errors/api-error.js';
import { errors } from '../errors/factories.js';
import { installProblemHandlers, problemErrorsPlugin, type ProblemHandlerOptions } from './errors.js';
import { requestIdPlugin, requestIdServerOptions } from './request-id.js';

interface LogCall {
  readonly level: string;
  readonly fields: Record<string, unknown>;
}

function recorder() {
  const calls: LogCall[] = [];
  const at = (level: string) => (fields: object) => void calls.push({ level, fields: fields as Record<string, unknown> });
  return { logger: { fatal: at('fatal'), error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') }, calls };
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function build(routes: (app: FastifyInstance) => void, options: ProblemHandlerOptions = {}) {
  const log = recorder();
  const app = fastify({ ...requestIdServerOptions, bodyLimit: 1024 });
  apps.push(app);
  await app.register(requestIdPlugin);
  await app.register(problemErrorsPlugin, { logger: log.logger, ...options });
  routes(app);
  await app.ready();
  return { app, calls: log.calls };
}

type Injected = Awaited<ReturnType<FastifyInstance['inject']>>;

function expectProblem(reply: Injected, status: number, code: string): Record<string, unknown> {
  expect(reply.statusCode).toBe(status);
  expect(reply.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  expect(reply.headers['cache-control']).toBe('no-store');
  const body = reply.json<Record<string, unknown>>();
  expect(body).toMatchObject({ status, code, type: `urn:bulwark:error:${code.toLowerCase()}` });
  expect(body.requestId).toBe(reply.headers['x-request-id']);
  expect(reply.body).not.toMatch(/"stack"|internalMessage|\.ts:\d+/);
  return body;
}

describe('problem handlers (Fastify 5)', () => {
  it('answers an ApiError with its status, code and headers, logged at its severity', async () => {
    const { app, calls } = await build((instance) => instance.get('/limited', async () => { throw errors.rateLimited(5); }));
    const reply = await app.inject({ method: 'GET', url: '/limited' });
    expectProblem(reply, 429, 'RATE_LIMITED');
    expect(reply.headers['retry-after']).toBe('5');
    expect(calls).toEqual([expect.objectContaining({ level: 'info', fields: expect.objectContaining({ code: 'RATE_LIMITED', route: '/limited' }) })]);
  });

  it('answers a body over bodyLimit with PAYLOAD_TOO_LARGE', async () => {
    const { app } = await build((instance) => instance.post('/echo', async (request) => request.body));
    const reply = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ data: 'x'.repeat(5000) }) });
    expectProblem(reply, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers malformed JSON and prototype poisoning with JSON_MALFORMED, echoing nothing', async () => {
    const { app } = await build((instance) => instance.post('/echo', async (request) => request.body));
    for (const payload of ['{"password":"hunter2",', '{"__proto__":{"admin":true}}', '']) {
      const reply = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload });
      expectProblem(reply, 400, 'JSON_MALFORMED');
      expect(reply.body).not.toContain('hunter2');
    }
  });

  it('answers an unsupported media type with UNSUPPORTED_MEDIA_TYPE', async () => {
    const { app } = await build((instance) => instance.post('/echo', async (request) => request.body));
    const reply = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/x-unknown' }, payload: 'x' });
    expectProblem(reply, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a schema failure with VALIDATION_FAILED and its issues', async () => {
    const { app } = await build((instance) =>
      instance.post('/items', { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } }, async () => ({ ok: true })),
    );
    const reply = await app.inject({ method: 'POST', url: '/items', payload: { other: 1 } });
    const body = expectProblem(reply, 422, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([{ path: '/', message: "must have required property 'name'" }]);
  });

  it.each([
    ['a plain Error', () => { throw new Error('redis://app:pw999@cache refused'); }],
    ['a thrown string', () => { throw 'internal string'; }],
    ['a thrown null', () => { throw null; }],
    ['a rejected undefined', () => Promise.reject(undefined)],
  ])('answers %s with INTERNAL_ERROR and logs it at fatal, redacted', async (_label, handler) => {
    const { app, calls } = await build((instance) => instance.get('/boom', async () => handler()));
    const reply = await app.inject({ method: 'GET', url: '/boom?token=abc' });
    expectProblem(reply, 500, 'INTERNAL_ERROR');
    expect(reply.body).not.toMatch(/redis|refused|internal string/);
    expect(calls[0]).toMatchObject({ level: 'fatal', fields: { code: 'INTERNAL_ERROR', path: '/boom' } });
    expect(JSON.stringify(calls)).not.toContain('pw999');
  });

  it('answers an unknown route with NOT_FOUND and sends no body to HEAD', async () => {
    const { app } = await build(() => undefined);
    expectProblem(await app.inject({ method: 'GET', url: '/nowhere' }), 404, 'NOT_FOUND');
    const head = await app.inject({ method: 'HEAD', url: '/nowhere' });
    expect(head.statusCode).toBe(404);
    expect(head.body).toBe('');
  });

  it('exposes the internal message and stack only with exposeErrors: true', async () => {
    const { app } = await build((instance) => instance.get('/boom', async () => { throw new Error('internal detail'); }), { exposeErrors: true });
    const body = (await app.inject({ method: 'GET', url: '/boom' })).json<Record<string, unknown>>();
    expect(body.internalMessage).toBe('internal detail');
    expect(String(body.stack)).toContain('Error: internal detail');
  });

  it('destroys the connection when the response had already started', async () => {
    const { app, calls } = await build((instance) =>
      instance.get('/stream', async (_request, reply) => {
        reply.raw.writeHead(200, { 'content-type': 'text/plain' });
        reply.raw.write('partial');
        throw new ApiError('UPSTREAM_ERROR');
      }),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${address.port}/stream`);
    await expect(response.text()).rejects.toThrow();
    expect(calls[0]?.fields.code).toBe('UPSTREAM_ERROR');
  });

  it('can be installed directly, without the plugin', async () => {
    const app = fastify();
    apps.push(app);
    installProblemHandlers(app);
    app.get('/', async () => { throw new ApiError('FORBIDDEN'); });
    const reply = await app.inject({ method: 'GET', url: '/' });
    expect(reply.statusCode).toBe(403);
    expect(reply.json()).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('rejects bad options at registration', async () => {
    const app = fastify();
    apps.push(app);
    await expect(app.register(problemErrorsPlugin, { exposeErrors: 'yes' as unknown as boolean }).ready()).rejects.toThrow(/exposeErrors/);
  });
});

describe('request ids (Fastify 5)', () => {
  const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('accepts a valid incoming id and echoes it on success, errors and 404s', async () => {
    const { app } = await build((instance) => {
      instance.get('/ok', async (request) => ({ id: request.id }));
      instance.get('/fail', async () => { throw new Error('x'); });
    });
    for (const url of ['/ok', '/fail', '/missing']) {
      const reply = await app.inject({ method: 'GET', url, headers: { 'x-request-id': 'trace-7' } });
      expect(reply.headers['x-request-id'], url).toBe('trace-7');
    }
    expect((await app.inject({ method: 'GET', url: '/ok', headers: { 'x-request-id': 'trace-7' } })).json()).toEqual({ id: 'trace-7' });
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['with spaces', 'a b'],
    ['with a newline', 'a\nb'],
    ['with non-ASCII characters', 'caf\u00e9'],
    ['sent twice', ['a', 'b']],
  ])('replaces an id that is %s with a UUIDv7', async (_label, incoming) => {
    const { app } = await build((instance) => instance.get('/ok', async (request) => ({ id: request.id })));
    const reply = await app.inject({ method: 'GET', url: '/ok', headers: { 'x-request-id': incoming } });
    const { id } = reply.json<{ id: string }>();
    expect(id).toMatch(UUID_V7);
    expect(reply.headers['x-request-id']).toBe(id);
  });

  it('refuses to run with requestIdHeader set, which would trust raw header values', async () => {
    const app = fastify({ requestIdHeader: 'x-request-id' });
    apps.push(app);
    await expect(app.register(requestIdPlugin).ready()).rejects.toThrow(/requestIdHeader must be false/);
  });
});
