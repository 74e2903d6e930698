import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createQueryParser, parseQuerySafe } from './query.js';

describe('parseQuerySafe', () => {
  it('parses a flat record, repeated names into arrays in order, + as space', () => {
    const result = parseQuerySafe('?tag=a&q=caf%C3%A9+au+lait&tag=b&empty=&flag&tag=c');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect({ ...result.value }).toEqual({ tag: ['a', 'b', 'c'], q: 'café au lait', empty: '', flag: '' });
    expect(Object.getPrototypeOf(result.value)).toBeNull();
  });

  it('does not expand brackets or dots into nested objects', () => {
    const result = parseQuerySafe('a[b]=1&a.c=2&a[]=3');
    expect(result.ok && { ...result.value }).toEqual({ 'a[b]': '1', 'a.c': '2', 'a[]': '3' });
  });

  it('skips empty pairs and empty names and accepts values containing =', () => {
    const result = parseQuerySafe('&&a=1&&=x&b=c=d&');
    expect(result.ok && { ...result.value }).toEqual({ a: '1', b: 'c=d' });
  });

  it('refuses forbidden keys in decoded form and as bracket or dot segments', () => {
    for (const query of ['__proto__=1', '%5F%5Fproto%5F%5F=1', '__pro%74o__=x', 'a[__proto__]=1', 'a%5B__proto__%5D=1', 'a.__proto__.b=1', 'constructor[prototype][x]=1', 'constructor.prototype=1', 'prototype=1', '__proto__']) {
      expect(parseQuerySafe(query), query).toMatchObject({ ok: false, code: 'FORBIDDEN_KEY' });
    }
    expect(parseQuerySafe('constructor=1&x=__proto__&proto=1')).toMatchObject({ ok: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses malformed percent-encoding and encoded surrogates', () => {
    for (const query of ['a=%', 'a=%2', 'a=%zz', 'a%=1', 'a=%C3', 'a=%C3%28', 'a=%ED%A0%80', 'a=%FF', 'b=1&a=%E0%A4']) {
      expect(parseQuerySafe(query), query).toMatchObject({ ok: false, code: 'QUERY_INVALID' });
    }
  });

  it('refuses a decoded NUL in names and values', () => {
    expect(parseQuerySafe('file=a.txt%00.png')).toMatchObject({ code: 'QUERY_INVALID' });
    expect(parseQuerySafe('a%00=1')).toMatchObject({ code: 'QUERY_INVALID' });
  });

  it('bounds the number of parameters and the length', () => {
    const parse = createQueryParser({ maxParams: 3, maxLength: 20 });
    expect(parse('a=1&b=2&c=3')).toMatchObject({ ok: true });
    expect(parse('a=1&b=2&c=3&d=4')).toMatchObject({ code: 'QUERY_INVALID' });
    expect(parse('a=1&a=1&a=1&a=1')).toMatchObject({ code: 'QUERY_INVALID' });
    expect(parse(`?${'x'.repeat(20)}`)).toMatchObject({ ok: true });
    expect(parse('x'.repeat(21))).toMatchObject({ code: 'QUERY_INVALID' });
    expect(parseQuerySafe('a=1&'.repeat(300))).toMatchObject({ code: 'QUERY_INVALID' });
  });

  it('agrees with URLSearchParams on well-formed queries (property)', () => {
    const safeName = fc.string({ minLength: 1, maxLength: 8 }).filter((name) => !['__proto__', 'prototype'].includes(name) && !name.includes('\u0000') && !/[[\].]/.test(name));
    const value = fc.string({ maxLength: 10, unit: 'grapheme' }).filter((text) => !text.includes('\u0000'));
    fc.assert(
      fc.property(fc.array(fc.tuple(safeName, value), { maxLength: 20 }), (pairs) => {
        const search = new URLSearchParams(pairs).toString();
        const result = parseQuerySafe(search);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        for (const [name] of pairs) {
          const all = new URLSearchParams(search).getAll(name);
          expect(result.value[name]).toEqual(all.length === 1 ? all[0] : all);
        }
      }),
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.stringMatching(/^[a-z%0-9A-F&=+[\]._]*$/)), (search) => {
        expect(typeof parseQuerySafe(search).ok).toBe('boolean');
      }),
    );
    expect(parseQuerySafe(undefined as unknown as string)).toMatchObject({ code: 'QUERY_INVALID' });
  });

  it('rejects bad options with a TypeError', () => {
    expect(() => createQueryParser({ maxParams: 0 })).toThrow(/maxParams/);
    expect(() => createQueryParser({ maxLength: 1.5 })).toThrow(/maxLength/);
  });
});
