import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSessionDataCodec } from './session-data.js';

const codec = createSessionDataCodec(4096);

describe('session data', () => {
  it('round-trips small plain JSON objects', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string().filter((key) => !['__proto__', 'prototype', 'constructor'].includes(key)), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 8 }), (data) => {
        // JSON itself turns -0 into 0.
        const json = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
        const text = (() => {
          try {
            return codec.encode('t', json);
          } catch (error) {
            // Only size and key limits may refuse a JSON object.
            expect(error).toBeInstanceOf(Error);
            expect(String(error)).toMatch(/maxDataBytes|FORBIDDEN_KEY|JSON_TOO/);
            return undefined;
          }
        })();
        if (text !== undefined) expect(codec.decode(text)).toEqual(json);
      }),
      { numRuns: 200 },
    );
  });

  it('shares nested objects but refuses cycles, with a TypeError', () => {
    const shared = { a: 1 };
    expect(codec.decode(codec.encode('t', { x: shared, y: shared }))).toEqual({ x: { a: 1 }, y: { a: 1 } });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => codec.encode('t', cyclic)).toThrow(TypeError);
  });

  it('refuses what JSON cannot carry faithfully, naming where', () => {
    expect(() => codec.encode('t', { a: [1, undefined] })).toThrow(/data\.a\[1\]/);
    expect(() => codec.encode('t', { a: { b: () => 1 } })).toThrow(/data\.a\.b/);
    expect(() => codec.encode('t', { n: Number.POSITIVE_INFINITY })).toThrow(/data\.n/);
    expect(() => codec.encode('t', { m: new Map() })).toThrow(/data\.m/);
    expect(() => codec.encode('t', { b: 10n })).toThrow(/data\.b/);
    expect(() => codec.encode('t', Object.create({ inherited: 1 }) as object)).toThrow(TypeError);
    expect(() => codec.encode('t', null)).toThrow(TypeError);
  });

  it('decodes only safe JSON objects: tampered records are refused, never trusted', () => {
    for (const text of ['', 'null', '[]', '"x"', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{}}}', '{', `{"a":${'['.repeat(20)}${']'.repeat(20)}}`, `{"x":"${'a'.repeat(5000)}"}`]) {
      expect(codec.decode(text)).toBeUndefined();
    }
    expect(codec.decode('{"ok":true}')).toEqual({ ok: true });
  });
});
