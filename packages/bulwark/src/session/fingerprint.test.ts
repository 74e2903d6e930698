import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FINGERPRINT_HEADERS, checkFingerprintHeaders, deviceFingerprint } from './fingerprint.js';

const chrome = {
  'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/126.0 Safari/537.36',
  accept: 'text/html,application/xhtml+xml',
  'accept-language': 'en-US,en;q=0.9',
  'accept-encoding': 'gzip, deflate, br, zstd',
};

describe('deviceFingerprint', () => {
  it('hashes User-Agent, Accept, Accept-Language and Accept-Encoding by default, into 43 base64url characters', () => {
    expect(DEFAULT_FINGERPRINT_HEADERS).toEqual(['user-agent', 'accept', 'accept-language', 'accept-encoding']);
    const fingerprint = deviceFingerprint(chrome);
    expect(fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(deviceFingerprint({ ...chrome, cookie: 'a=1', 'x-forwarded-for': '1.2.3.4' })).toBe(fingerprint);
    for (const name of DEFAULT_FINGERPRINT_HEADERS) {
      expect(deviceFingerprint({ ...chrome, [name]: `${chrome[name as keyof typeof chrome]}x` })).not.toBe(fingerprint);
    }
  });

  it('tells a missing header from an empty one, and survives no headers at all', () => {
    const { 'user-agent': _dropped, ...withoutAgent } = chrome;
    const missing = deviceFingerprint(withoutAgent);
    expect(deviceFingerprint({ ...withoutAgent, 'user-agent': '' })).not.toBe(missing);
    expect(deviceFingerprint({ ...withoutAgent, 'user-agent': undefined })).toBe(missing);
    expect(deviceFingerprint(undefined)).toBe(deviceFingerprint({}));
    expect(deviceFingerprint({ 'user-agent': 'a', accept: '' })).not.toBe(deviceFingerprint({ 'user-agent': '', accept: 'a' }));
  });

  it('reads repeated header lines as HTTP joins them, and ignores surrounding whitespace', () => {
    expect(deviceFingerprint({ accept: ['text/html', 'application/json'] })).toBe(deviceFingerprint({ accept: 'text/html, application/json' }));
    expect(deviceFingerprint({ accept: '  text/html ' })).toBe(deviceFingerprint({ accept: 'text/html' }));
  });

  it('gives different fingerprints to different header tuples (no separator can be forged)', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.string(), { nil: undefined }), { minLength: 4, maxLength: 4 }), fc.array(fc.option(fc.string(), { nil: undefined }), { minLength: 4, maxLength: 4 }), (a, b) => {
        const headers = (values: (string | undefined)[]) => Object.fromEntries(DEFAULT_FINGERPRINT_HEADERS.map((name, index) => [name, values[index]]));
        const same = a.every((value, index) => (value?.trim() ?? null) === (b[index]?.trim() ?? null));
        expect(deviceFingerprint(headers(a)) === deviceFingerprint(headers(b))).toBe(same);
      }),
    );
  });

  it('bounds the work on hostile header values', () => {
    const huge = 'A'.repeat(1_000_000);
    expect(deviceFingerprint({ 'user-agent': huge })).toBe(deviceFingerprint({ 'user-agent': `${huge}B` }));
    expect(deviceFingerprint({ 'user-agent': 42 as unknown as string, accept: [1, 'x'] as unknown as string[] })).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('validates a custom header list', () => {
    expect(checkFingerprintHeaders('o', ['User-Agent', 'Sec-CH-UA'])).toEqual(['user-agent', 'sec-ch-ua']);
    for (const bad of [[], ['a b'], ['x', 'X'], 'user-agent', Array.from({ length: 17 }, (_, index) => `h${index}`), [42]]) {
      expect(() => checkFingerprintHeaders('o', bad)).toThrow(TypeError);
    }
  });
});
