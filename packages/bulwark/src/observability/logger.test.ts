import { describe, expect, it } from 'vitest';
import { fastify } from 'fastify';
import { createLogger, type LoggerOptions } from './logger.js';

function capture(options: Omit<LoggerOptions, 'destination'> = {}) {
  const lines: string[] = [];
  const logger = createLogger({ base: null, ...options, destination: { write: (line: string) => void lines.push(line) } });
  const records = (): Record<string, unknown>[] => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

describe('createLogger: redaction', () => {
  it('redacts secret keys at any depth and in arrays, in any case', () => {
    const { logger, records } = capture();
    logger.info({ req: { headers: { Authorization: 'Bearer x', COOKIE: 'sid=1', accept: '*/*' } }, users: [{ name: 'ann', Password: 'p' }] }, 'request');
    expect(records()[0]).toMatchObject({ req: { headers: { Authorization: '[REDACTED]', COOKIE: '[REDACTED]', accept: '*/*' } }, users: [{ name: 'ann', Password: '[REDACTED]' }] });
  });

  it('scrubs credentials in the message, in printf arguments and in values', () => {
    const { logger, records } = capture();
    logger.info({ dsn: 'postgres://app:pw1234@db/app' }, 'calling with Bearer a1b2c3d4e5f6g7h8');
    logger.warn('Authorization: Bearer %s for %j', 'Zk9qW2xR7tY4uI8o', { api_key: 'k', ok: true });
    logger.error('card %s', '4111 1111 1111 1111');
    const [first, second, third] = records();
    expect(first).toMatchObject({ dsn: 'postgres://app:[REDACTED]@db/app', msg: 'calling with Bearer [REDACTED]' });
    expect(second?.msg).toBe('Authorization: Bearer [REDACTED] for {"api_key":"[REDACTED]","ok":true}');
    expect(third?.msg).toBe('card [REDACTED]');
  });

  it('logs errors as objects with scrubbed message, stack and cause, and scrubs the message taken from them', () => {
    const { logger, records } = capture();
    const error = new Error('upstream said token=abc123xyz', { cause: new Error('whsec_abcdefghijklmnop') });
    logger.error(error);
    logger.error({ err: error });
    for (const record of records()) {
      expect(record.msg).toBe('upstream said token=[REDACTED]');
      expect(record.err).toMatchObject({ type: 'Error', message: 'upstream said token=[REDACTED]', cause: { message: '[REDACTED]' } });
      expect(JSON.stringify(record)).not.toMatch(/abc123xyz|whsec_abc/);
    }
  });

  it('redacts the extra keys it was given', () => {
    const { logger, records } = capture({ redactKeys: ['x-tenant-secret'] });
    logger.info({ headers: { 'X-Tenant-Secret': 's' } }, 'm');
    expect(records()[0]).toMatchObject({ headers: { 'X-Tenant-Secret': '[REDACTED]' } });
  });

  it('never mutates the logged object', () => {
    const { logger } = capture();
    const object = Object.freeze({ headers: Object.freeze({ authorization: 'Bearer abcdefghijklmnopq' }), url: '/?token=abcdef' });
    const copy = structuredClone(object);
    logger.info(object, 'm');
    expect(object).toEqual(copy);
  });

  it('logs cycles and prototype keys without throwing or polluting', () => {
    const { logger, records } = capture();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    logger.info({ cyclic, body: JSON.parse('{"__proto__":{"polluted":true,"token":"t"}}') as unknown }, 'm');
    expect(records()[0]).toMatchObject({ cyclic: { a: 1, self: '[Circular]' } });
    expect(records()[0]?.body).toEqual(JSON.parse('{"__proto__":{"polluted":true,"token":"[REDACTED]"}}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('cuts a 5 MB string, whether a value or the message', () => {
    const { logger, lines } = capture();
    const huge = 'x'.repeat(5 * 1024 * 1024);
    logger.info({ body: huge }, huge);
    expect(lines[0]?.length).toBeLessThan(20_000);
  });
});

describe('createLogger: log injection', () => {
  it('writes one line per record: CR, LF and other controls in messages and values stay escaped', () => {
    const { logger, lines } = capture();
    logger.info({ user: 'ann\r\n{"level":60,"msg":"forged"}' }, 'login\n{"level":60,"msg":"forged"}\u001b[2J');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.indexOf('\n')).toBe(lines[0]!.length - 1);
    expect(lines[0]).not.toContain('\r');
    expect(lines[0]).not.toContain('\u001b');
  });

  it('keeps pretty output to one line per record, with controls escaped', () => {
    const { logger, lines } = capture({ pretty: true });
    logger.warn({ user: 'ann\r\nFORGED' }, 'login\nFORGED \u001b[31m red \u2028 done');
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? '';
    expect(line.endsWith('\n')).toBe(true);
    // eslint-disable-next-line no-control-regex -- asserting the absence of control characters
    expect(line.slice(0, -1)).not.toMatch(/[\r\n\u001b\u2028]/);
    expect(line).toContain('WARN');
    expect(line).toContain('login\\nFORGED \\u001b[31m red \\u2028 done');
  });

  it('scrubs before pretty-printing', () => {
    const { logger, lines } = capture({ pretty: true });
    logger.info({ headers: { authorization: 'Bearer abcdefghijklmnopq' } }, 'token=abcdef');
    expect(lines[0]).not.toContain('abcdefghijklmnopq');
    expect(lines[0]).toContain('token=[REDACTED]');
  });
});

describe('createLogger: children and bindings', () => {
  it('redacts child bindings, child serializers and nested children', () => {
    const { logger, records } = capture();
    const child = logger.child({ token: 'abc', requestId: 'r1' }, { serializers: { user: (user: { name: string; password: string }) => ({ ...user }) } });
    child.info({ user: { name: 'ann', password: 'p' } }, 'hello');
    child.child({ session: 's', dsn: 'redis://u:pw@h' }).info('nested');
    const [first, second] = records();
    expect(first).toMatchObject({ token: '[REDACTED]', requestId: 'r1', user: { name: 'ann', password: '[REDACTED]' } });
    expect(second).toMatchObject({ token: '[REDACTED]', session: '[REDACTED]', dsn: 'redis://u:[REDACTED]@h' });
  });

  it('redacts printf objects by key, also in a child given its own pino redact paths', () => {
    const { logger, records } = capture();
    logger.info('payload %j', { pin: 1234, password: 1234, nested: { token: ['a'] } });
    logger.child({ a: 1 }, { redact: ['a'] }).info('child %o', { secret: 99 });
    const [first, second] = records();
    expect(first?.msg).toBe('payload {"pin":1234,"password":"[REDACTED]","nested":{"token":"[REDACTED]"}}');
    expect(second?.msg).toBe('child {"secret":"[REDACTED]"}');
    expect(second?.a).toBe('[Redacted]');
  });

  it('redacts base bindings and keeps pid and hostname unless base is null', () => {
    const lines: string[] = [];
    const logger = createLogger({ base: { service: 'orders', secret: 's' }, destination: { write: (line: string) => void lines.push(line) } });
    logger.info('m');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ service: 'orders', secret: '[REDACTED]', pid: process.pid });
  });

  it('works as Fastify loggerInstance, redacting request logs', async () => {
    const { logger, lines } = capture();
    const app = fastify({ loggerInstance: logger });
    app.get('/', async (request) => {
      request.log.info({ headers: request.headers }, 'seen');
      return 'ok';
    });
    await app.inject({ method: 'GET', url: '/', headers: { authorization: 'Bearer abcdefghijklmnopq' } });
    await app.close();
    const seen = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((record) => record.msg === 'seen');
    expect(seen).toMatchObject({ headers: { authorization: '[REDACTED]' } });
    expect(lines.join('')).not.toContain('abcdefghijklmnopq');
  });
});

describe('createLogger: options', () => {
  it('defaults to info and accepts LOG_LEVEL values in any case', () => {
    expect(capture().logger.level).toBe('info');
    expect(capture({ level: 'DEBUG' }).logger.level).toBe('debug');
    expect(capture({ level: 'silent' }).logger.level).toBe('silent');
  });

  it.each([
    [{ level: 'verbose' }, /level must be one of/],
    [{ pretty: 'yes' as unknown as boolean }, /pretty/],
    [{ base: 'x' as unknown as Record<string, unknown> }, /base/],
    [{ maxDepth: 0 }, /maxDepth/],
  ])('rejects %o with a TypeError', (options, message) => {
    expect(() => capture(options)).toThrow(message);
  });

  it('rejects a destination without write', () => {
    expect(() => createLogger({ destination: {} as never })).toThrow(/destination/);
  });
});
