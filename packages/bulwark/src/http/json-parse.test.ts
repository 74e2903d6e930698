import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createJsonParser, parseJsonSafe } from './json-parse.js';
import type { JsonParseOptions, JsonParseResult } from './json-parse.js';
import { isWellFormed } from './json-walk.js';

/** Every test runs against both strategies: tree check after JSON.parse, and byte pre-scan before it. */
const strategies = [
  ['tree check', { prescanAboveBytes: Number.POSITIVE_INFINITY }],
  ['byte pre-scan', { prescanAboveBytes: 0 }],
] as const;

function codeOf(result: JsonParseResult): string {
  return result.ok ? 'ok' : result.code;
}

/** `"__proto__"` with the character at `index` written as a \u escape (upper or lower-case hex). */
function escapedAt(name: string, index: number, upper: boolean): string {
  const hex = name.charCodeAt(index).toString(16).padStart(4, '0');
  return `${name.slice(0, index)}\\u${upper ? hex.toUpperCase() : hex}${name.slice(index + 1)}`;
}

describe.each(strategies)('parseJsonSafe with %s', (_label, strategy) => {
  const parse = createJsonParser(strategy);
  const parseWith = (options: JsonParseOptions) => createJsonParser({ ...strategy, ...options });

  it('parses valid JSON from strings, Buffers and Uint8Arrays alike', () => {
    const text = '{"a":[1,2,{"b":"c"}],"d":null,"e":true,"f":-1.5e3,"g":"Zürich ✓ 😀"}';
    const expected: unknown = JSON.parse(text);
    expect(parse(text)).toEqual({ ok: true, value: expected });
    expect(parse(Buffer.from(text))).toEqual({ ok: true, value: expected });
    expect(parse(new TextEncoder().encode(text))).toEqual({ ok: true, value: expected });
    // A view into the middle of a larger, unaligned allocation.
    const padded = Buffer.from(`xxx${text}yyy`);
    expect(parse(padded.subarray(3, 3 + Buffer.byteLength(text)))).toEqual({ ok: true, value: expected });
    for (const scalar of ['1', '"x"', 'null', 'true', ' [] ', '{}']) expect(parse(scalar)).toEqual({ ok: true, value: JSON.parse(scalar) });
  });

  it('refuses __proto__ in every spelling, including each character \\u-escaped', () => {
    const spellings = ['__proto__'];
    for (let index = 0; index < '__proto__'.length; index += 1) {
      spellings.push(escapedAt('__proto__', index, false), escapedAt('__proto__', index, true));
    }
    spellings.push([...'__proto__'].map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''));
    for (const spelling of spellings) {
      for (const text of [`{"${spelling}":{"isAdmin":true}}`, `[{"a":1},{"${spelling}" : 1}]`, `{"x":{"y":[[{"${spelling}":null}]]}}`]) {
        const result = parse(text);
        expect(result, text).toMatchObject({ ok: false, code: 'FORBIDDEN_KEY' });
        expect(parse(Buffer.from(text)), text).toMatchObject({ ok: false, code: 'FORBIDDEN_KEY' });
      }
    }
  });

  it('refuses prototype anywhere and constructor.prototype, escaped or not', () => {
    expect(parse('{"prototype":1}')).toMatchObject({ code: 'FORBIDDEN_KEY' });
    expect(parse('[[{"a":{"pro\\u0074otype":{}}}]]')).toMatchObject({ code: 'FORBIDDEN_KEY' });
    expect(parse('{"constructor":{"prototype":{"polluted":1}}}')).toMatchObject({ code: 'FORBIDDEN_KEY' });
    expect(parse('{"\\u0063onstructor" :\n {"\\u0070rototype":{}}}')).toMatchObject({ code: 'FORBIDDEN_KEY' });
  });

  it('allows an ordinary constructor key and look-alike keys', () => {
    for (const text of ['{"constructor":"Pascal"}', '{"constructor":{"name":"x"}}', '{"__proto":1,"proto__":2,"_proto_":3,"prototypes":4,"Prototype":5}', '{"a":"__proto__"}', '["__proto__"]']) {
      expect(parse(text), text).toEqual({ ok: true, value: JSON.parse(text) });
    }
  });

  it('checks parent.child pairs only directly under the parent key', () => {
    const custom = parseWith({ forbiddenKeys: ['constructor.prototype', 'settings.admin'] });
    expect(custom('{"prototype":1}')).toMatchObject({ ok: true });
    expect(custom('{"constructor":{"prototype":1}}')).toMatchObject({ code: 'FORBIDDEN_KEY' });
    expect(custom('{"constructor":{"a":{"prototype":1}}}')).toMatchObject({ ok: true });
    expect(custom('{"constructor":[{"prototype":1}]}')).toMatchObject({ ok: true });
    expect(custom('{"constructor":{"a":1},"b":{"prototype":1}}')).toMatchObject({ ok: true });
    expect(custom('[{"settings":{"theme":1,"admin":true}}]')).toMatchObject({ code: 'FORBIDDEN_KEY' });
    // __proto__ stays forbidden whatever the list says.
    expect(custom('{"__proto__":1}')).toMatchObject({ code: 'FORBIDDEN_KEY' });
  });

  it('refuses non-ASCII forbidden keys in string input as in bytes (regression: the pre-scan read them as Latin-1)', () => {
    const custom = parseWith({ forbiddenKeys: ['café', 'réglages.admin', 'x.été'] });
    for (const text of ['{"café":1}', '{"\\u0063afé":1}', '{"caf\\u00e9":1}', '{"réglages":{"admin":true}}', '{"x":{"été":1}}']) {
      expect(custom(text), text).toMatchObject({ ok: false, code: 'FORBIDDEN_KEY' });
      expect(custom(Buffer.from(text)), text).toMatchObject({ ok: false, code: 'FORBIDDEN_KEY' });
    }
    expect(custom('{"cafe":1,"réglages":{"theme":"été"}}')).toMatchObject({ ok: true });
  });

  it('refuses 10 000 levels of nesting as too deep without overflowing the stack', () => {
    for (const text of ['['.repeat(10_000) + ']'.repeat(10_000), '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000), '[{"a":'.repeat(5_000) + '1' + '}]'.repeat(5_000)]) {
      expect(parse(text)).toMatchObject({ ok: false, code: 'JSON_TOO_DEEP' });
    }
    expect(parseWith({ maxBytes: 1_000_000 })('['.repeat(200_000) + ']'.repeat(200_000))).toMatchObject({ code: 'JSON_TOO_DEEP' });
  });

  it('accepts exactly maxDepth levels and refuses one more', () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    expect(parse(nested(64))).toMatchObject({ ok: true });
    expect(parse(nested(65))).toMatchObject({ code: 'JSON_TOO_DEEP' });
    const shallow = parseWith({ maxDepth: 2 });
    expect(shallow('{"a":[1]}')).toMatchObject({ ok: true });
    expect(shallow('{"a":[{}]}')).toMatchObject({ code: 'JSON_TOO_DEEP' });
  });

  it('counts keys across all objects', () => {
    const limited = parseWith({ maxKeys: 3 });
    expect(limited('[{"a":1},{"b":2},{"c":{}}]')).toMatchObject({ ok: true });
    expect(limited('[{"a":1},{"b":2},{"c":{"d":1}}]')).toMatchObject({ code: 'JSON_TOO_MANY_KEYS' });
    const many = `{${Array.from({ length: 10_001 }, (_, index) => `"k${index}":0`).join(',')}}`;
    expect(parse(many)).toMatchObject({ code: 'JSON_TOO_MANY_KEYS' });
  });

  it('is not confused by brackets, colons, quotes and backslashes inside strings', () => {
    const tricky = { '[[{': ':::', 'a"b': '\\"]]}}', c: '['.repeat(1000), d: 'x\\'.repeat(50), e: '"'.repeat(99) };
    const text = JSON.stringify(tricky);
    expect(parseWith({ maxDepth: 1, maxKeys: 5 })(text)).toEqual({ ok: true, value: tricky });
  });

  it('refuses bodies over maxBytes, counting UTF-8 bytes', () => {
    const limited = parseWith({ maxBytes: 10 });
    expect(limited('"12345678"')).toMatchObject({ ok: true });
    expect(limited('"123456789"')).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    // 5 code units, 11 bytes.
    expect(limited('"ééé€"')).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(limited(Buffer.from('"123456789"'))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    // The default 1 MiB: an oversized body is refused before it is looked at.
    expect(parse(Buffer.alloc(1024 * 1024 + 1, 0x20))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(parse(' '.repeat(1024 * 1024 + 1))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    // 100 MiB (never touched: allocUnsafeSlow leaves the pages uncommitted) is refused on its length.
    expect(parse(Buffer.allocUnsafeSlow(100 * 1024 * 1024))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('refuses invalid UTF-8 bytes', () => {
    const bad = [
      [0x22, 0xff, 0x22],
      [0x22, 0xc0, 0xaf, 0x22], // overlong '/'
      [0x22, 0x80, 0x22], // lone continuation byte
      [0x22, 0xe2, 0x82, 0x22], // truncated sequence
      [0x22, 0xed, 0xa0, 0x80, 0x22], // CESU-8 lone surrogate U+D800
      [0x7b, 0x22, 0xf5, 0x22, 0x3a, 0x31, 0x7d], // beyond U+10FFFF
    ];
    for (const bytes of bad) expect(parse(Uint8Array.from(bytes)), String(bytes)).toMatchObject({ code: 'INVALID_ENCODING' });
  });

  it('refuses lone surrogates, raw or escaped, in values and keys, and accepts real pairs', () => {
    expect(parse('"\ud800"')).toMatchObject({ code: 'INVALID_ENCODING' });
    expect(parse('{"a":"x\udc00"}')).toMatchObject({ code: 'INVALID_ENCODING' });
    for (const text of ['"\\ud800"', '"\\uDBFF x"', '"\\udc00"', '["\\ud800\\u0041"]', '{"\\ud83d":1}', '{"a":["ok","\\ud83d\\ud83d"]}']) {
      expect(parse(text), text).toMatchObject({ code: 'INVALID_ENCODING' });
      expect(parse(Buffer.from(text)), text).toMatchObject({ code: 'INVALID_ENCODING' });
    }
    expect(parse('"\\ud83d\\ude00"')).toEqual({ ok: true, value: '😀' });
    expect(parse('{"\\uD83D\\uDE00":"\\u00e9"}')).toEqual({ ok: true, value: { '😀': 'é' } });
  });

  it('ignores one leading byte order mark and nothing else', () => {
    expect(parse('\ufeff{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parse(Buffer.from('\ufeff{"a":1}'))).toEqual({ ok: true, value: { a: 1 } });
    expect(parse('\ufeff\ufeff{"a":1}')).toMatchObject({ code: 'JSON_MALFORMED' });
    expect(parse('{"a":1}\ufeff')).toMatchObject({ code: 'JSON_MALFORMED' });
  });

  it('reports malformed JSON with a position and never echoes the input', () => {
    for (const text of ['{"a":1,}', '{"<script>":', '<script>alert(1)</script>', '', '[1,2', '{"a":"\\x"}', '"unterminated', ']', '{"a":1}}']) {
      const result = parse(text);
      expect(result, text).toMatchObject({ ok: false, code: 'JSON_MALFORMED' });
      if (!result.ok) expect(result.detail).not.toMatch(/script|alert/);
    }
    expect(parse('{"a":1,}')).toMatchObject({ detail: 'Malformed JSON at position 7' });
  });

  it('returns objects whose prototypes are the standard ones', () => {
    const result = parse('{"a":{"b":[{"c":{}}]},"constructor":{"name":"n"}}');
    expect(result.ok).toBe(true);
    const value = (result as { value: { a: { b: [{ c: object }] }; constructor: object } }).value;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(value.a.b[0].c)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(value.constructor)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('never throws on arbitrary strings or bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json(), fc.stringMatching(/^[[\]{}":,\\u0-9a-f _pro]*$/)), (text) => {
        expect(typeof parse(text).ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(typeof parse(bytes).ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });
});

/** What the limits say about a value: a plain recursive reference (depth is small in these tests). */
function referenceVerdict(value: unknown, maxDepth: number, maxKeys: number): 'ok' | 'JSON_TOO_DEEP' | 'JSON_TOO_MANY_KEYS' | 'FORBIDDEN_KEY' {
  let keys = 0;
  let forbidden = false;
  let deepest = 0;
  const visit = (node: unknown, depth: number, underConstructor: boolean): void => {
    if (typeof node !== 'object' || node === null) return;
    deepest = Math.max(deepest, depth);
    if (Array.isArray(node)) {
      for (const item of node) visit(item, depth + 1, false);
      return;
    }
    for (const [key, item] of Object.entries(node)) {
      keys += 1;
      if (key === '__proto__' || key === 'prototype' || (underConstructor && key === 'prototype')) forbidden = true;
      visit(item, depth + 1, key === 'constructor' && typeof item === 'object' && item !== null && !Array.isArray(item));
    }
  };
  visit(value, 1, false);
  if (forbidden) return 'FORBIDDEN_KEY';
  if (deepest > maxDepth) return 'JSON_TOO_DEEP';
  if (keys > maxKeys) return 'JSON_TOO_MANY_KEYS';
  return 'ok';
}

describe('parseJsonSafe properties', () => {
  const wellFormedJson = fc.jsonValue({ depthSize: 'medium' }).filter((value) => isWellFormed(JSON.stringify(value)));

  it('agrees with JSON.parse on every valid JSON without forbidden keys within limits (both strategies)', () => {
    for (const [, strategy] of strategies) {
      const parse = createJsonParser({ ...strategy, maxDepth: 8, maxKeys: 40 });
      fc.assert(
        fc.property(wellFormedJson, fc.boolean(), (value, pretty) => {
          const text = JSON.stringify(value, null, pretty ? 2 : undefined);
          const verdict = referenceVerdict(JSON.parse(text), 8, 40);
          const result = parse(text);
          if (verdict === 'ok') expect(result).toEqual({ ok: true, value: JSON.parse(text) });
          else expect(result.ok).toBe(false);
          // When exactly one limit is broken, both strategies name it.
          if (verdict !== 'ok' && !result.ok && verdict === 'FORBIDDEN_KEY') expect(codeOf(result)).toBe('FORBIDDEN_KEY');
          expect(parse(Buffer.from(text))).toEqual(result);
        }),
        { numRuns: 400 },
      );
    }
  });

  it('gives the same verdict with and without the byte pre-scan', () => {
    const tree = createJsonParser({ prescanAboveBytes: Number.POSITIVE_INFINITY, maxDepth: 6, maxKeys: 30 });
    const bytes = createJsonParser({ prescanAboveBytes: 0, maxDepth: 6, maxKeys: 30 });
    fc.assert(
      fc.property(fc.oneof(wellFormedJson.map((value) => JSON.stringify(value)), fc.string()), (text) => {
        const a = tree(text);
        const b = bytes(text);
        expect(a.ok).toBe(b.ok);
        if (a.ok && b.ok) expect(b.value).toEqual(a.value);
      }),
      { numRuns: 400 },
    );
  });

  it('finds a forbidden key wherever it is inserted into valid JSON', () => {
    const parse = createJsonParser();
    fc.assert(
      fc.property(wellFormedJson, fc.constantFrom('__proto__', '\\u005f_proto__', '__pro\\u0074o__', 'prototype', 'prot\\u006Ftype'), fc.nat(), (value, key, seed) => {
        // Wrap the value so that there is always an object, pick one, give it a marker key.
        const root = { wrapper: [structuredClone(value)] };
        const objects: Record<string, unknown>[] = [];
        const pending: unknown[] = [root];
        for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
          if (typeof node !== 'object' || node === null) continue;
          if (!Array.isArray(node)) objects.push(node as Record<string, unknown>);
          pending.push(...Object.values(node));
        }
        const target = objects[seed % objects.length] as Record<string, unknown>;
        target['\u0001marker'] = 1;
        const injected = JSON.stringify(root).replace('"\\u0001marker"', `"${key}"`);
        expect(codeOf(parse(injected))).toBe('FORBIDDEN_KEY');
      }),
      { numRuns: 300 },
    );
  });
});

describe('createJsonParser options', () => {
  it('rejects out-of-range options with a TypeError naming the option', () => {
    expect(() => createJsonParser({ maxBytes: 0 })).toThrow(/maxBytes/);
    expect(() => createJsonParser({ maxDepth: 0 })).toThrow(/maxDepth/);
    expect(() => createJsonParser({ maxDepth: 5000 })).toThrow(/maxDepth/);
    expect(() => createJsonParser({ maxKeys: -1 })).toThrow(/maxKeys/);
    expect(() => createJsonParser({ maxKeys: 1.5 })).toThrow(/maxKeys/);
    expect(() => createJsonParser({ prescanAboveBytes: -1 })).toThrow(/prescanAboveBytes/);
    expect(() => createJsonParser({ forbiddenKeys: [''] })).toThrow(/forbiddenKeys/);
    expect(() => createJsonParser({ forbiddenKeys: ['a.'] })).toThrow(/forbiddenKeys/);
    expect(() => createJsonParser({ forbiddenKeys: ['a.b.c'] })).toThrow(/forbiddenKeys/);
  });

  it('parseJsonSafe reuses the parser built for an options object and validates options', () => {
    const options = { maxDepth: 1 };
    expect(parseJsonSafe('[[1]]', options)).toMatchObject({ code: 'JSON_TOO_DEEP' });
    expect(parseJsonSafe('[[1]]', options)).toMatchObject({ code: 'JSON_TOO_DEEP' });
    expect(parseJsonSafe('[[1]]')).toEqual({ ok: true, value: [[1]] });
    expect(() => parseJsonSafe('1', { maxBytes: -5 })).toThrow(TypeError);
  });

  it('reports non-string, non-byte input as malformed instead of throwing', () => {
    expect(parseJsonSafe(42 as unknown as string)).toMatchObject({ ok: false, code: 'JSON_MALFORMED' });
  });
});
