import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64url } from './base64url.js';

describe('decodeBase64url', () => {
  it('round-trips arbitrary bytes through their unpadded base64url encoding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const decoded = decodeBase64url(Buffer.from(bytes).toString('base64url'));
        expect(decoded).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it.each([
    ['a character outside the alphabet', 'abc!defg'],
    ['a space', 'abcd efg'],
    ['standard base64 + and /', 'ab+/cdef'],
    ['padding', 'YQ=='],
    ['an impossible length (4n+1)', 'abcde'],
    ['non-zero trailing bits', 'YR'],
    ['a newline', 'YWJj\n'],
  ])('rejects %s', (_label, value) => {
    expect(decodeBase64url(value)).toBeUndefined();
  });

  it('never throws and accepts only strings it would itself produce', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), (value) => {
        const decoded = decodeBase64url(value);
        if (decoded !== undefined) expect(decoded.toString('base64url')).toBe(value);
      }),
    );
  });

  it('rejects non-string input without throwing', () => {
    expect(decodeBase64url(42 as unknown as string)).toBeUndefined();
  });
});
