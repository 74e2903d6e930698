import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { safeEqual } from './safe-equal.js';

const bytesOf = (value: string | Uint8Array): Buffer => (typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value));
const secretInput = fc.oneof(fc.string({ unit: 'binary', maxLength: 96 }), fc.uint8Array({ maxLength: 96 }));

describe('safeEqual', () => {
  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (a, b) => {
        const result = safeEqual(a as string, b as string);
        expect(typeof result).toBe('boolean');
      }),
    );
  });

  it('is true exactly when the two inputs are the same bytes', () => {
    fc.assert(
      fc.property(secretInput, secretInput, (a, b) => {
        expect(safeEqual(a, b)).toBe(bytesOf(a).equals(bytesOf(b)));
      }),
    );
  });

  it('is true for any input compared with a copy of itself, string or bytes', () => {
    fc.assert(
      fc.property(secretInput, (a) => {
        expect(safeEqual(a, typeof a === 'string' ? `${a}` : Uint8Array.from(a))).toBe(true);
        expect(safeEqual(a, bytesOf(a))).toBe(true);
      }),
    );
  });

  it('is false when one byte differs or one byte is appended, at any position', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (a, at, delta) => {
        const changed = Uint8Array.from(a);
        const index = at % a.length;
        changed[index] = (changed[index]! + delta) % 256;
        expect(safeEqual(a, changed)).toBe(false);
        expect(safeEqual(a, Uint8Array.from([...a, 0]))).toBe(false);
      }),
    );
  });

  it('returns false instead of throwing on a truncated signature (the classic timingSafeEqual RangeError)', () => {
    expect(safeEqual('a'.repeat(64), 'a'.repeat(63))).toBe(false);
    expect(safeEqual(Buffer.alloc(32), Buffer.alloc(0))).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });

  it('compares strings as UTF-8, so a string equals its encoded bytes and nothing else', () => {
    expect(safeEqual('é', Buffer.from('é', 'utf8'))).toBe(true);
    expect(safeEqual('é', Buffer.from('é', 'latin1'))).toBe(false);
  });

  it('returns false for values that are neither strings nor bytes', () => {
    for (const value of [undefined, null, 42, {}, [], Symbol('x'), () => 'x']) {
      expect(safeEqual(value as unknown as string, 'x')).toBe(false);
      expect(safeEqual('x', value as unknown as string)).toBe(false);
    }
  });
});
