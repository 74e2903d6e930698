import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REDACT_KEYS } from './redact-keys.js';
import { createRedactor, redact } from './redact.js';

/** Every way a header or field name is spelled in the wild. */
function spellings(key: string): string[] {
  const words = key.split(/[-_]/);
  const camel = words.map((word, index) => (index === 0 ? word : word.charAt(0).toUpperCase() + word.slice(1))).join('');
  return [...new Set([key, key.toUpperCase(), words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('-'), words.join('_'), words.join('_').toUpperCase(), words.join(''), camel])];
}

function nest(depth: number, leaf: Record<string, unknown>): Record<string, unknown> {
  let node: Record<string, unknown> = leaf;
  for (let level = 0; level < depth; level += 1) node = { [`level${level}`]: node };
  return node;
}

function leafAt(value: unknown, depth: number): Record<string, unknown> {
  let node = value as Record<string, unknown>;
  for (let level = depth - 1; level >= 0; level -= 1) node = node[`level${level}`] as Record<string, unknown>;
  return node;
}

describe('redact: secret keys', () => {
  it.each(DEFAULT_REDACT_KEYS.map((key) => [key]))('redacts %s in every spelling at depth 10', (key) => {
    for (const spelling of spellings(key)) {
      const out = redact(nest(10, { [spelling]: 'hunter2-secret-value', keep: 'visible' }));
      expect(leafAt(out, 10)).toEqual({ [spelling]: '[REDACTED]', keep: 'visible' });
    }
  });

  it('redacts secret keys inside arrays and arrays of arrays', () => {
    const out = redact({ items: [{ password: 'a' }, [{ Token: 'b' }, { nested: [{ 'X-API-KEY': 'c' }] }]] });
    expect(out).toEqual({ items: [{ password: '[REDACTED]' }, [{ Token: '[REDACTED]' }, { nested: [{ 'X-API-KEY': '[REDACTED]' }] }]] });
  });

  it('replaces the whole value of a secret key, whatever its type', () => {
    const out = redact({ session: { id: 'abc', user: 'ann' }, secret: 42, token: ['a', 'b'], cookie: null, csrf: undefined });
    expect(out).toEqual({ session: '[REDACTED]', secret: '[REDACTED]', token: '[REDACTED]', cookie: '[REDACTED]', csrf: undefined });
  });

  it('redacts keys added per redactor, in any case, and leaves other redactors alone', () => {
    const custom = createRedactor({ redactKeys: ['X-Tenant-Secret'] });
    expect(custom({ x_tenant_secret: 'v', XTENANTSECRET: 'w' })).toEqual({ x_tenant_secret: '[REDACTED]', XTENANTSECRET: '[REDACTED]' });
    expect(redact({ x_tenant_secret: 'v' })).toEqual({ x_tenant_secret: 'v' });
  });

  it('keeps keys that merely contain a secret word', () => {
    expect(redact({ tokenCount: 3, passwordPolicy: 'strong', sessions: 2 })).toEqual({ tokenCount: 3, passwordPolicy: 'strong', sessions: 2 });
  });

  it('still decides correctly after thousands of distinct hostile keys filled its verdict cache', () => {
    const hostile: Record<string, string> = {};
    for (let index = 0; index < 10_000; index += 1) hostile[`k${index}`] = 'v';
    const redactor = createRedactor({ maxKeys: 20_000, maxNodes: 100_000 });
    redactor(hostile);
    expect(redactor({ Authorization: 'Bearer x', k1: 'v' })).toEqual({ Authorization: '[REDACTED]', k1: 'v' });
  });
});

describe('redact: the per-position key memo (log records repeat their shape)', () => {
  it('redacts a key differing only in case at a position whose last key was not secret, and the other way round', () => {
    const redactor = createRedactor();
    expect(redactor({ id: 1, passwordHint: 'hint' })).toEqual({ id: 1, passwordHint: 'hint' });
    expect(redactor({ id: 1, PASSWORD: 'p' })).toEqual({ id: 1, PASSWORD: '[REDACTED]' });
    expect(redactor({ id: 1, Password: 'p' })).toEqual({ id: 1, Password: '[REDACTED]' });
    expect(redactor({ id: 1, passwordHint: 'hint' })).toEqual({ id: 1, passwordHint: 'hint' });
  });

  it('still redacts a nested secret when the same shape comes back with the secret at another depth', () => {
    const redactor = createRedactor();
    expect(redactor({ headers: { accept: 'x', host: 'h' } })).toEqual({ headers: { accept: 'x', host: 'h' } });
    expect(redactor({ headers: { accept: 'x', Authorization: 'Bearer abcdefghijkl' } })).toEqual({ headers: { accept: 'x', Authorization: '[REDACTED]' } });
    expect(redactor({ accept: 'x', Authorization: { nested: { token: 't' } } })).toEqual({ accept: 'x', Authorization: '[REDACTED]' });
    expect(redactor({ accept: 'x', list: [{ accept: 'y', token: 't' }] })).toEqual({ accept: 'x', list: [{ accept: 'y', token: '[REDACTED]' }] });
  });

  it('decides every key like a fresh redactor, whatever the order of shapes it saw before (property)', () => {
    const keys = fc.constantFrom('id', 'user', 'accept', 'Token', 'token', 'TOKEN', 'tokenCount', 'x-api-key', 'X_API_KEY', 'apiKeyName', '__proto__', 'constructor', 'cookie', 'Cookies');
    const record = fc.array(fc.tuple(keys, fc.constantFrom('v', 'value-long-enough', 7)), { maxLength: 8 }).map((pairs) => {
      const out: Record<string, unknown> = {};
      for (const [key, value] of pairs) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      return out;
    });
    const shared = createRedactor();
    fc.assert(
      fc.property(fc.array(fc.tuple(record, fc.integer({ min: 0, max: 5 })), { minLength: 1, maxLength: 6 }), (calls) => {
        for (const [leaf, depth] of calls) {
          const value = nest(depth, leaf);
          expect(JSON.stringify(shared(value))).toBe(JSON.stringify(createRedactor()(value)));
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('redact: values', () => {
  it('scrubs credentials inside strings at any depth', () => {
    const out = redact({ a: [{ b: 'call with Bearer abcdefghij123456 now' }], url: 'redis://app:s3cr3t@cache:6379/0' });
    expect(out).toEqual({ a: [{ b: 'call with Bearer [REDACTED] now' }], url: 'redis://app:[REDACTED]@cache:6379/0' });
  });

  it('redacts a card number logged as a number', () => {
    expect(redact({ pan: 4111111111111111, amount: 1999, time: 1_700_000_000_000 })).toEqual({ pan: '[REDACTED]', amount: 1999, time: 1_700_000_000_000 });
  });
});

describe('redact: never mutates, copies only what changes', () => {
  it('returns the very same object when nothing needs redacting', () => {
    const clean = { method: 'GET', url: '/orders/42', headers: { accept: 'application/json' }, list: [1, 2, 3] };
    expect(redact(clean)).toBe(clean);
  });

  it('leaves the caller object (frozen, deep) untouched and shares unchanged subtrees', () => {
    const shared = Object.freeze({ accept: 'application/json' });
    const input = Object.freeze({ headers: Object.freeze({ authorization: 'Bearer abcdefghijklmnop', accept: 'x' }), other: shared });
    const snapshot = structuredClone(input);
    const out = redact(input) as typeof input;
    expect(input).toEqual(snapshot);
    expect(out.headers.authorization).toBe('[REDACTED]');
    expect(out.other).toBe(shared);
  });
});

describe('redact: hostile structure', () => {
  it('replaces cycles with [Circular] and returns something JSON can print', () => {
    const node: Record<string, unknown> = { name: 'a', password: 'x' };
    node.self = node;
    node.list = [node, { back: node }];
    const out = redact(node);
    expect(out).toEqual({ name: 'a', password: '[REDACTED]', self: '[Circular]', list: ['[Circular]', { back: '[Circular]' }] });
    expect(() => JSON.stringify(out)).not.toThrow();
  });

  it('prints a shared (non-cyclic) reference twice, not as circular', () => {
    const shared = { a: 1 };
    expect(redact({ x: shared, y: shared })).toEqual({ x: shared, y: shared });
  });

  it('cuts a 5 MB string to maxStringLength and says how much was dropped', () => {
    const huge = `${'a'.repeat(5 * 1024 * 1024)}Bearer abcdefghijklmnop`;
    const out = redact({ body: huge }) as { body: string };
    expect(out.body.length).toBeLessThan(8300);
    expect(out.body).toMatch(/…\[truncated \d+ chars\]$/);
    expect(out.body).not.toContain('abcdefghijklmnop');
  });

  it('never splits a surrogate pair when truncating', () => {
    const redactor = createRedactor({ maxStringLength: 64 });
    const out = redactor(`${'a'.repeat(63)}😀${'b'.repeat(100)}`) as string;
    expect(out.startsWith(`${'a'.repeat(63)}…`)).toBe(true);
  });

  it('bounds depth, array length, keys per object and total work', () => {
    const redactor = createRedactor({ maxDepth: 3, maxArrayLength: 2, maxKeys: 2 });
    expect(redactor({ a: { b: { c: { d: 1 } } } })).toEqual({ a: { b: { c: '[Truncated: depth]' } } });
    expect(redactor([1, 2, 3, 4])).toEqual([1, 2, '[… 2 more items]']);
    expect(redactor({ a: 1, b: 2, c: 3, d: 4 })).toEqual({ a: 1, b: 2, '[truncated]': '2 more keys' });
    const wide = createRedactor({ maxNodes: 3 });
    expect(wide({ a: {}, b: {}, c: {}, d: {} })).toEqual({ a: {}, b: {}, c: '[Truncated]', d: '[Truncated]' });
  });

  it('keeps an own __proto__ key as data, never as a prototype change', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "password": "x"}') as Record<string, unknown>;
    const out = redact(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(out.password).toBe('[REDACTED]');
  });

  it('redacts inside __proto__ and constructor members too', () => {
    const parsed = JSON.parse('{"__proto__": {"token": "t"}, "constructor": {"prototype": {"secret": "s"}}}') as Record<string, unknown>;
    expect(JSON.stringify(redact(parsed))).toBe('{"__proto__":{"token":"[REDACTED]"},"constructor":{"prototype":{"secret":"[REDACTED]"}}}');
  });

  it('survives throwing getters and toJSON', () => {
    const getter = Object.defineProperty({}, 'boom', { enumerable: true, get: () => { throw new Error('no'); } });
    const toJson = { toJSON: () => { throw new Error('no'); } };
    expect(redact({ getter, toJson, ok: 1 })).toEqual({ getter: '[Unserializable]', toJson: '[Unserializable]', ok: 1 });
  });

  it('stays correct when a getter calls the same redactor during a walk (re-entrant call)', () => {
    const redactor = createRedactor({ maxDepth: 3 });
    const inner = { password: 'p', deep: { a: { b: 1 } } };
    const outer = {
      get nested() {
        return redactor(inner);
      },
      list: [{ token: 't' }],
    };
    expect(redactor(outer)).toEqual({ nested: { password: '[REDACTED]', deep: { a: '[Truncated: depth]' } }, list: [{ token: '[REDACTED]' }] });
    expect(redactor({ again: { token: 'x' } })).toEqual({ again: { token: '[REDACTED]' } });
  });

  it('redacts what toJSON returns', () => {
    const value = { toJSON: () => ({ password: 'p', visible: true }) };
    expect(redact({ value })).toEqual({ value: { password: '[REDACTED]', visible: true } });
  });

  it('summarises binary data instead of dumping its bytes', () => {
    expect(redact({ body: Buffer.from('secret bytes') })).toEqual({ body: '[Binary: 12 bytes]' });
  });
});

describe('redact: errors', () => {
  it('turns errors into plain objects with scrubbed message and stack, cause and own fields', () => {
    const cause = new Error('connect to postgres://app:pw123456@db failed');
    const error = Object.assign(new TypeError('bad token=abcdef123', { cause }), { code: 'E_X', headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    const out = redact({ err: error }) as { err: Record<string, unknown> };
    expect(out.err.type).toBe('TypeError');
    expect(out.err.message).toBe('bad token=[REDACTED]');
    expect(String(out.err.stack)).not.toContain('abcdef123');
    expect(out.err.code).toBe('E_X');
    expect(out.err.headers).toEqual({ authorization: '[REDACTED]' });
    expect((out.err.cause as Record<string, unknown>).message).toBe('connect to postgres://app:[REDACTED]@db failed');
  });

  it('walks the errors of an AggregateError', () => {
    const out = redact(new AggregateError([new Error('sk_live_abcdefghijkl1234')], 'many')) as { errors: { message: string }[] };
    expect(out.errors[0]?.message).toBe('[REDACTED]');
  });
});

describe('createRedactor options', () => {
  it.each([
    [{ maxDepth: 0 }, /maxDepth/],
    [{ maxArrayLength: 1.5 }, /maxArrayLength/],
    [{ maxKeys: -1 }, /maxKeys/],
    [{ maxStringLength: 10 }, /maxStringLength/],
    [{ maxNodes: Number.NaN }, /maxNodes/],
    [{ redactKeys: ['ok', ''] }, /redactKeys/],
    [{ redactKeys: 'password' as unknown as string[] }, /redactKeys/],
  ])('rejects %o with a TypeError naming the option', (options, message) => {
    expect(() => createRedactor(options)).toThrow(TypeError);
    expect(() => createRedactor(options)).toThrow(message);
  });
});

describe('redact: properties', () => {
  const secretKey = fc.constantFrom(...DEFAULT_REDACT_KEYS).chain((key) => fc.constantFrom(...spellings(key)));

  it('never throws, never returns a cycle, and never lets a secret-keyed value through', () => {
    fc.assert(
      fc.property(fc.anything({ withObjectString: true, withNullPrototype: true, withBigInt: false }), secretKey, fc.string({ minLength: 12 }), (value, key, secret) => {
        const marker = `SECRET${secret.replace(/[^A-Za-z0-9]/g, '')}VALUE`;
        const out = redact({ wrapper: [value, { [key]: marker }] });
        const text = JSON.stringify(out);
        expect(text).not.toContain(marker);
      }),
      { numRuns: 300 },
    );
  });
});
