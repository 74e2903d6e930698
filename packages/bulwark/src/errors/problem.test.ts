import { describe, expect, it } from 'vitest';
import { ApiError } from './api-error.js';
import { errors } from './factories.js';
import { PROBLEM_CONTENT_TYPE, toApiError, toProblem } from './problem.js';

const INTERNAL_SECRET = 'connect ECONNREFUSED postgres://app:pw-0123456789@10.0.0.5:5432';

describe('toProblem', () => {
  it('builds an RFC 9457 document with code, requestId and the error headers', () => {
    const problem = toProblem(errors.rateLimited(3), { requestId: 'req-1' });
    expect(problem.status).toBe(429);
    expect(problem.headers).toEqual({ 'retry-after': '3' });
    expect(problem.body).toEqual({
      type: 'urn:bulwark:error:rate_limited',
      title: 'Too many requests',
      status: 429,
      detail: 'Rate limit exceeded; retry in 3 seconds.',
      code: 'RATE_LIMITED',
      requestId: 'req-1',
    });
    expect(PROBLEM_CONTENT_TYPE).toMatch(/^application\/problem\+json/);
  });

  it.each([
    ['a plain Error', new Error(INTERNAL_SECRET)],
    ['a TypeError', new TypeError(INTERNAL_SECRET)],
    ['a thrown string', INTERNAL_SECRET],
    ['null', null],
    ['undefined', undefined],
    ['an object with a message', { message: INTERNAL_SECRET, status: 'x' }],
    ['an error with a 5xx status', Object.assign(new Error(INTERNAL_SECRET), { statusCode: 500 })],
  ])('turns %s into a generic INTERNAL_ERROR that leaks nothing', (_label, thrown) => {
    const problem = toProblem(thrown, { requestId: 'req-2' });
    expect(problem.status).toBe(500);
    expect(problem.body.code).toBe('INTERNAL_ERROR');
    const text = JSON.stringify(problem.body);
    expect(text).not.toContain('ECONNREFUSED');
    expect(text).not.toContain('pw-0123456789');
    expect(text).not.toMatch(/stack|internalMessage|at .*\.ts/);
    expect(problem.error.cause).toBe(thrown);
  });

  it('answers a generic INTERNAL_ERROR, without throwing, for a thrown value whose getters or proxy traps throw', () => {
    const getter = Object.defineProperty({}, 'validation', { enumerable: true, get: () => { throw new Error(INTERNAL_SECRET); } });
    const messageGetter = Object.defineProperty(new Error('x'), 'message', { get: () => { throw new Error(INTERNAL_SECRET); } });
    const { proxy: revoked, revoke } = Proxy.revocable({}, {});
    revoke();
    for (const thrown of [getter, messageGetter, revoked]) {
      for (const exposeErrors of [false, true]) {
        const problem = toProblem(thrown, { exposeErrors });
        expect(problem.status).toBe(500);
        expect(problem.body.code).toBe('INTERNAL_ERROR');
        expect(JSON.stringify(problem.body)).not.toContain('pw-0123456789');
      }
    }
  });

  it('includes the internal message and stack only when exposeErrors is exactly true, scrubbed', () => {
    const thrown = new Error(INTERNAL_SECRET);
    for (const exposeErrors of [undefined, false, 'true' as unknown as boolean, 1 as unknown as boolean]) {
      expect(JSON.stringify(toProblem(thrown, exposeErrors === undefined ? {} : { exposeErrors }).body)).not.toContain('ECONNREFUSED');
    }
    const exposed = toProblem(thrown, { exposeErrors: true }).body;
    expect(exposed.internalMessage).toBe('connect ECONNREFUSED postgres://app:[REDACTED]@10.0.0.5:5432');
    expect(String(exposed.stack)).toContain('Error: connect ECONNREFUSED');
    expect(String(exposed.stack)).not.toContain('pw-0123456789');
    expect(toProblem('boom', { exposeErrors: true }).body.internalMessage).toBe('boom');
  });

  it('never lets extensions overwrite the standard members', () => {
    const error = new ApiError('CONFLICT', {
      extensions: { type: 'https://evil', title: 'x', status: 200, detail: 'x', code: 'NOT_FOUND', requestId: 'forged', instance: 'x', conflictingId: 'o-1' },
    });
    const body = toProblem(error, { requestId: 'real' }).body;
    expect(body).toEqual({ type: 'urn:bulwark:error:conflict', title: 'Conflict', status: 409, detail: 'Conflict', code: 'CONFLICT', requestId: 'real', conflictingId: 'o-1' });
  });

  it('ignores __proto__, constructor and prototype in extensions', () => {
    const extensions = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "prototype": 1, "ok": 1}') as Record<string, unknown>;
    const body = toProblem(new ApiError('BAD_REQUEST', { extensions }), {}).body;
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    expect(Object.keys(body)).not.toEqual(expect.arrayContaining(['__proto__']));
    expect(body.ok).toBe(1);
    expect(body.constructor).toBe(Object);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(body)).not.toContain('polluted');
  });

  it('uses typeBase and instance when given', () => {
    const body = toProblem(errors.notFound(), { typeBase: 'https://docs.example.com/errors#', instance: '/orders/1' }).body;
    expect(body.type).toBe('https://docs.example.com/errors#not_found');
    expect(body.instance).toBe('/orders/1');
  });
});

describe('toApiError: framework errors', () => {
  it.each([
    ['body-parser entity.too.large', { type: 'entity.too.large', status: 413, limit: 100 }, 'PAYLOAD_TOO_LARGE', 413],
    ['body-parser entity.parse.failed', Object.assign(new SyntaxError('Unexpected token } in JSON at position 3'), { type: 'entity.parse.failed', status: 400 }), 'JSON_MALFORMED', 400],
    ['body-parser charset', { type: 'charset.unsupported', status: 415 }, 'UNSUPPORTED_MEDIA_TYPE', 415],
    ['body-parser too many parameters', { type: 'parameters.too.many', status: 413 }, 'PAYLOAD_TOO_LARGE', 413],
    ['Fastify body too large', { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }, 'PAYLOAD_TOO_LARGE', 413],
    ['Fastify invalid JSON', { code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 }, 'JSON_MALFORMED', 400],
    ['Fastify empty JSON', { code: 'FST_ERR_CTP_EMPTY_JSON_BODY', statusCode: 400 }, 'JSON_MALFORMED', 400],
    ['Fastify media type', { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }, 'UNSUPPORTED_MEDIA_TYPE', 415],
    ['Fastify validation', { validation: [{ instancePath: '/name', message: 'must be string' }], statusCode: 400 }, 'VALIDATION_FAILED', 422],
    ['an http-errors 404', { status: 404, expose: true }, 'NOT_FOUND', 404],
    ['an unusual 4xx', { statusCode: 418 }, 'BAD_REQUEST', 418],
    ['a 503', { statusCode: 503 }, 'SERVICE_UNAVAILABLE', 503],
    ['a 501', { statusCode: 501 }, 'INTERNAL_ERROR', 500],
    ['an unknown type with no status', { type: '__proto__' }, 'INTERNAL_ERROR', 500],
  ])('maps %s', (_label, thrown, code, status) => {
    const error = toApiError(thrown);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.cause).toBe(thrown);
  });

  it('never forwards the framework message', () => {
    const thrown = Object.assign(new SyntaxError('Unexpected token p in JSON at position 12: {"password":"hunter2'), { type: 'entity.parse.failed', status: 400 });
    expect(JSON.stringify(toProblem(thrown).body)).not.toContain('hunter2');
  });

  it('states the limit when the parser gives it', () => {
    expect(toProblem({ type: 'entity.too.large', limit: 1024 }).body).toMatchObject({ detail: 'The body exceeds the limit of 1024 bytes.', limitBytes: 1024 });
  });

  it('passes validation issues as { path, message }, bounded', () => {
    const validation = Array.from({ length: 50 }, (_, index) => ({ instancePath: `/items/${index}`, message: 'x'.repeat(500) }));
    const body = toProblem({ validation }).body as unknown as { errors: { path: string; message: string }[] };
    expect(body.errors).toHaveLength(20);
    expect(body.errors[0]).toEqual({ path: '/items/0', message: 'x'.repeat(200) });
  });

  it('returns an ApiError untouched', () => {
    const error = errors.forbidden();
    expect(toApiError(error)).toBe(error);
  });
});
