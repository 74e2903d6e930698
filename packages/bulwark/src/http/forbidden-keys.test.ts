import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ApiError } from '../errors/index.js';
import { assertNoPrototypeKeys, compileForbiddenKeys, findForbiddenKey } from './forbidden-keys.js';

describe('findForbiddenKey', () => {
  it('bounds the reported path, which is built from client keys and shown in problem details', () => {
    const longKey = 'k'.repeat(5000);
    const finding = findForbiddenKey(JSON.parse(`{"${longKey}":{"${longKey}":{"__proto__":{}}}}`));
    expect(finding?.key).toBe('__proto__');
    expect(finding?.path.length).toBeLessThanOrEqual(201);
    expect(finding?.path.endsWith('["__proto__"]')).toBe(true);
  });

  it('finds __proto__ created by JSON.parse, with its path', () => {
    expect(findForbiddenKey(JSON.parse('{"a":[{"b":1},{"__proto__":{"x":1}}]}'))).toEqual({ key: '__proto__', path: '$.a[1]["__proto__"]' });
    expect(findForbiddenKey(JSON.parse('{"odd key":{"prototype":1}}'))).toEqual({ key: 'prototype', path: '$["odd key"].prototype' });
  });

  it('finds constructor.prototype only as a direct child of a constructor object', () => {
    const matcher = compileForbiddenKeys(['constructor.prototype']);
    expect(findForbiddenKey({ constructor: { prototype: {} } }, matcher)).toEqual({ key: 'prototype', path: '$.constructor.prototype' });
    expect(findForbiddenKey({ constructor: { a: { prototype: {} } } }, matcher)).toBeUndefined();
    expect(findForbiddenKey({ constructor: [{ prototype: {} }] }, matcher)).toBeUndefined();
    expect(findForbiddenKey({ prototype: 1 }, matcher)).toBeUndefined();
  });

  it('returns undefined for clean values and scalars', () => {
    expect(findForbiddenKey({ a: [1, { b: 'prototype' }], constructor: 'x' })).toBeUndefined();
    expect(findForbiddenKey('__proto__')).toBeUndefined();
    expect(findForbiddenKey(null)).toBeUndefined();
  });

  it('walks 100 000 levels without recursion and survives cycles and shared references', () => {
    const root: Record<string, unknown> = {};
    let node = root;
    for (let level = 0; level < 100_000; level += 1) {
      const child: Record<string, unknown> = {};
      node.next = child;
      node = child;
    }
    expect(findForbiddenKey(root)).toBeUndefined();
    Object.defineProperty(node, '__proto__', { value: 1, enumerable: true });
    expect(findForbiddenKey(root)?.key).toBe('__proto__');

    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    cyclic.list = [cyclic, cyclic];
    expect(findForbiddenKey(cyclic)).toBeUndefined();
  });

  it('finds a forbidden key placed anywhere in a random tree (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), (value, seed) => {
        const root: Record<string, unknown> = { wrapper: [value] };
        const objects: Record<string, unknown>[] = [];
        const pending: unknown[] = [root];
        for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
          if (typeof item !== 'object' || item === null) continue;
          if (!Array.isArray(item)) objects.push(item as Record<string, unknown>);
          pending.push(...Object.values(item));
        }
        const clean = findForbiddenKey(root) === undefined;
        const target = objects[seed % objects.length] as Record<string, unknown>;
        Object.defineProperty(target, '__proto__', { value: 1, enumerable: true, configurable: true });
        expect(findForbiddenKey(root)?.key === '__proto__' || !clean).toBe(true);
      }),
    );
  });
});

describe('assertNoPrototypeKeys', () => {
  it('throws a FORBIDDEN_KEY ApiError naming the key and path', () => {
    try {
      assertNoPrototypeKeys(JSON.parse('{"user":{"__proto__":{"admin":true}}}'));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe('FORBIDDEN_KEY');
      expect((error as ApiError).status).toBe(400);
      expect((error as ApiError).detail).toContain('$.user["__proto__"]');
    }
    expect(() => assertNoPrototypeKeys({ ok: true })).not.toThrow();
  });
});

describe('compileForbiddenKeys', () => {
  it('always includes __proto__ and validates entries', () => {
    expect(compileForbiddenKeys(['secret']).names.has('__proto__')).toBe(true);
    expect(() => compileForbiddenKeys(['x'.repeat(200)])).toThrow(/forbiddenKeys/);
    expect(() => compileForbiddenKeys(['.a'])).toThrow(TypeError);
    expect(() => compileForbiddenKeys('__proto__' as unknown as string[])).toThrow(TypeError);
  });
});
