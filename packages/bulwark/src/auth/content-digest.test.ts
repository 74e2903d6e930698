import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkContentDigest, contentDigest } from './content-digest.js';

const BODY = '{"hello": "world"}';

describe('Content-Digest (RFC 9530)', () => {
  it('produces the RFC 9530 example digests of {"hello": "world"}', () => {
    expect(contentDigest(BODY)).toBe('sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:');
    expect(contentDigest(BODY, ['sha-512'])).toBe('sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:');
    expect(contentDigest(BODY, ['sha-256', 'sha-512'])).toMatch(/^sha-256=:.+:, sha-512=:.+:$/);
  });

  it('refuses unsupported or no algorithms when producing one', () => {
    expect(() => contentDigest(BODY, [])).toThrow(TypeError);
    expect(() => contentDigest(BODY, ['md5' as never])).toThrow(/md5/);
  });

  it('matches what it produced, for any body (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.constantFrom(['sha-256'], ['sha-512'], ['sha-256', 'sha-512']) as fc.Arbitrary<('sha-256' | 'sha-512')[]>, (body, algorithms) => {
        expect(checkContentDigest(contentDigest(body, algorithms), body)).toBe('match');
      }),
    );
  });

  it('reports a mismatch when any byte of the body changes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), fc.nat(), (body, at) => {
        const changed = Uint8Array.from(body);
        changed[at % body.length] = (changed[at % body.length]! + 1) % 256;
        expect(checkContentDigest(contentDigest(body), changed)).toBe('mismatch');
      }),
    );
  });

  it('requires every supported digest to match and ignores unknown algorithms', () => {
    const good256 = contentDigest(BODY);
    const bad512 = `sha-512=:${createHash('sha512').update('other').digest('base64')}:`;
    expect(checkContentDigest(`${good256}, ${bad512}`, BODY)).toBe('mismatch');
    expect(checkContentDigest(`md5=:AAAA:, ${good256}`, BODY)).toBe('match');
    expect(checkContentDigest('md5=:AAAA:, unixsum=:AAAA:', BODY)).toBe('unsupported');
  });

  it('treats a digest of the wrong length as a mismatch and garbage as malformed, never throwing', () => {
    expect(checkContentDigest('sha-256=:AAAA:', BODY)).toBe('mismatch');
    for (const header of ['sha-256=X48E9q', 'sha-256=:not base64:', 'sha-256=("a")', 'SHA-256=:AAAA:', ',', 'sha-256=:AAAA:,']) {
      expect(checkContentDigest(header, BODY)).toBe('malformed');
    }
    fc.assert(fc.property(fc.string(), fc.string(), (header, body) => void checkContentDigest(header, body)));
  });
});
