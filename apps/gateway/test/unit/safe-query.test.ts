import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from 'bulwark/errors';
import { parseQueryStrict } from '../../src/pipeline/safe-parsers.js';

function codeOf(raw: string): string | undefined {
  try {
    parseQueryStrict(raw);
    return undefined;
  } catch (error) {
    return error instanceof ApiError ? error.code : 'THROWN';
  }
}

describe('safe query parsing', () => {
  it('parses repeated parameters into arrays on a null-prototype object', () => {
    const query = parseQueryStrict('a=1&b=2&a=3&c');
    expect({ ...query }).toEqual({ a: ['1', '3'], b: '2', c: '' });
    expect(Object.getPrototypeOf(query)).toBeNull();
  });

  it('refuses prototype keys in every bracket and dot spelling, also percent-encoded', () => {
    for (const raw of ['__proto__=1', '__proto__[x]=1', 'a[__proto__][b]=1', 'a.__proto__.b=1', 'constructor[prototype][x]=1', 'constructor.prototype.x=1', '%5F%5Fproto%5F%5F=1', 'a%5B__proto__%5D=1', 'a[prototype]=1']) {
      expect(codeOf(raw), raw).toBe('FORBIDDEN_KEY');
    }
  });

  it('refuses more than 256 parameters', () => {
    expect(codeOf(Array.from({ length: 257 }, (_, i) => `p${i}=1`).join('&'))).toBe('QUERY_INVALID');
    expect(codeOf(Array.from({ length: 256 }, (_, i) => `p${i}=1`).join('&'))).toBeUndefined();
  });

  it('never throws anything but an ApiError and never pollutes Object.prototype', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (raw) => {
        const code = codeOf(raw);
        expect(code === undefined || code === 'FORBIDDEN_KEY' || code === 'QUERY_INVALID').toBe(true);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
    );
  });
});
