import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseDictionary, serializeInnerList, serializeItem, Token } from 'structured-headers';
import type { BareItem, InnerList, Item, Parameters } from 'structured-headers';
import { checkContentDigest, contentDigest, readSingleContentDigest } from './content-digest.js';
import { parseSignatureDictionary, parseSignatureValues } from './signature-input.js';
import { serializeSignatureItem, serializeSignatureParams } from './signature-serialize.js';

/** What a Signature-Input can hold, and a few things it usually does not (decimals) to exercise the fallback. */
const key = fc.stringMatching(/^[a-z*][a-z0-9_.*-]{0,8}$/);
const bare: fc.Arbitrary<BareItem> = fc.oneof(
  fc.stringMatching(/^[\x20-\x7e]{0,12}$/),
  fc.integer({ min: -999_999_999_999_999, max: 999_999_999_999_999 }),
  fc.boolean(),
  fc.stringMatching(/^[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]{0,8}$/).map((text) => new Token(text)),
  fc.uint8Array({ maxLength: 12 }).map((bytes) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer),
  fc.double({ min: -999_999, max: 999_999, noNaN: true }).map((value) => Math.round(value * 1000) / 1000),
);
const parameters: fc.Arbitrary<Parameters> = fc.uniqueArray(fc.tuple(key, bare), { maxLength: 4, selector: ([name]) => name }).map((entries) => new Map(entries));
const item: fc.Arbitrary<Item> = fc.tuple(fc.stringMatching(/^[\x20-\x7e]{0,12}$/), parameters);
const innerList: fc.Arbitrary<InnerList> = fc.tuple(fc.array(item, { maxLength: 6 }), parameters);

describe('signature serialisation', () => {
  it('serialises inner lists exactly as structured-headers does (property)', () => {
    fc.assert(
      fc.property(innerList, (list) => {
        expect(serializeSignatureParams(list)).toBe(serializeInnerList(list));
      }),
      { numRuns: 500 },
    );
  });

  it('serialises items exactly as structured-headers does (property)', () => {
    fc.assert(
      fc.property(item, (value) => {
        expect(serializeSignatureItem(value)).toBe(serializeItem(value));
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips what it parsed: parse → serialise gives the canonical text back', () => {
    const text = '("@method" "content-type";sf "example-dict";key="a" "x";bs);created=1618884473;keyid="a\\"b\\\\c";alg="hmac-sha256";nonce="n";x=tok;y;z=?0;b=:AAEC:';
    const member = parseDictionary(`sig1=${text}`).get('sig1') as InnerList;
    expect(serializeSignatureParams(member)).toBe(text);
  });
});

describe('fast paths agree with the structured-field parser', () => {
  it('parseSignatureValues reads one label=:base64: member as the parser does (property)', () => {
    fc.assert(
      fc.property(key, fc.uint8Array({ maxLength: 80 }), (label, bytes) => {
        const header = `${label}=:${Buffer.from(bytes).toString('base64')}:`;
        const fast = parseSignatureValues(header);
        const parsed = parseSignatureDictionary(header)!;
        expect([...fast!.keys()]).toEqual([...parsed.keys()]);
        expect(fast!.get(label)).toEqual(Buffer.from(parsed.get(label)![0] as ArrayBuffer));
      }),
    );
  });

  it('readSingleContentDigest agrees with the full check for every one-member digest', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom('sha-256', 'sha-512') as fc.Arbitrary<'sha-256' | 'sha-512'>, (body, algorithm) => {
        const header = contentDigest(body, [algorithm]);
        expect(readSingleContentDigest(header)?.algorithm).toBe(algorithm);
        expect(checkContentDigest(header, body)).toBe('match');
      }),
    );
    expect(readSingleContentDigest('sha-256=:AAAA:')).toBeUndefined();
    expect(readSingleContentDigest('sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:, sha-512=:AAAA:')).toBeUndefined();
  });
});
