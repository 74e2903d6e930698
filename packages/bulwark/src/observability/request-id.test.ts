import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REQUEST_ID_HEADER, REQUEST_ID_PATTERN, generateRequestId, resolveRequestId } from './request-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('resolveRequestId', () => {
  it.each(['abc', 'req-1', '01964f2c-7b0e-7c3a-9f5e-3d2a1b0c9d8e', 'svc:123.4_5', 'a'.repeat(128), '4bf92f3577b34da6a3ce929d0e0e4736'])('accepts %j as it is', (id) => {
    expect(resolveRequestId(id)).toBe(id);
  });

  it.each([
    ['empty', ''],
    ['too long', 'a'.repeat(129)],
    ['space', 'abc def'],
    ['newline', 'abc\n'],
    ['CRLF header injection', 'abc\r\nSet-Cookie: x=1'],
    ['unicode', 'ábc'],
    ['emoji', '😀'],
    ['slash', 'a/b'],
    ['comma-joined duplicate', 'abc, def'],
    ['NUL', 'abc\u0000'],
  ])('replaces an id with %s by a fresh UUIDv7', (_label, id) => {
    const resolved = resolveRequestId(id);
    expect(resolved).not.toBe(id);
    expect(resolved).toMatch(UUID_V7);
  });

  it('replaces a header sent twice (an array), even when both values are valid', () => {
    expect(resolveRequestId(['abc', 'abc'])).toMatch(UUID_V7);
    expect(resolveRequestId(['abc'])).toMatch(UUID_V7);
  });

  it('generates when the header is absent', () => {
    expect(resolveRequestId(undefined)).toMatch(UUID_V7);
  });

  it('generates distinct, time-ordered ids', () => {
    const ids = Array.from({ length: 100 }, () => generateRequestId());
    expect(new Set(ids).size).toBe(100);
    expect([...ids].sort()).toEqual(ids);
  });

  it('only ever returns ids matching the pattern (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.array(fc.string()), fc.constant(undefined)), (incoming) => {
        expect(resolveRequestId(incoming)).toMatch(REQUEST_ID_PATTERN);
      }),
    );
  });

  it('names the header in lower case, as Node presents it', () => {
    expect(REQUEST_ID_HEADER).toBe('x-request-id');
  });
});
