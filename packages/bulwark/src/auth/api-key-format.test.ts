import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32 } from 'node:zlib';
import { API_KEY_PATTERN, crc32Ascii, generateApiKey, generateKeyId, isApiKeyEnv, parseApiKey, randomBase62, scanApiKey } from './api-key-format.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('generateApiKey', () => {
  it('produces keys that parse, with the environment and a short display prefix', () => {
    const key = generateApiKey('test');
    expect(key).toMatch(/^bw_test_[0-9A-Za-z]{49}$/);
    const parsed = parseApiKey(key);
    expect(parsed).toEqual({ ok: true, env: 'test', key, displayPrefix: key.slice(0, 'bw_test_'.length + 6) });
  });

  it('defaults to the live environment', () => {
    expect(generateApiKey()).toMatch(/^bw_live_/);
  });

  it('never repeats a key', () => {
    const keys = new Set(Array.from({ length: 2000 }, () => generateApiKey()));
    expect(keys.size).toBe(2000);
  });

  it('rejects an invalid environment with a TypeError naming the rule', () => {
    for (const env of ['', 'LIVE', 'a_b', 'x'.repeat(17), 'lіve', ' live']) {
      expect(() => generateApiKey(env)).toThrow(/env must match/);
    }
  });

  it('is found by the documented scanner pattern inside surrounding text', () => {
    const key = generateApiKey();
    const text = `config: {"token": "${key}"}, other: bw_live_tooShort`;
    expect([...text.matchAll(API_KEY_PATTERN)].map((m) => m[0])).toEqual([key]);
  });
});

describe('randomBase62', () => {
  it('uses every base62 character with no visible bias', () => {
    const counts = new Map<string, number>();
    for (const char of randomBase62(62 * 400)) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect([...counts.keys()].sort().join('')).toBe([...BASE62].sort().join(''));
    // Expected 400 each; a modulo bias towards the first 8 characters would show ~25% more.
    for (const count of counts.values()) expect(count).toBeLessThan(560);
  });
});

describe('parseApiKey', () => {
  const valid = generateApiKey('live');

  it('rejects a key whose checksum does not match', () => {
    const last = valid.at(-1)!;
    const tampered = valid.slice(0, -1) + (last === 'a' ? 'b' : 'a');
    expect(parseApiKey(tampered)).toEqual({ ok: false, reason: 'bad_checksum' });
  });

  it('rejects a key whose environment was changed (the checksum covers it)', () => {
    expect(parseApiKey(valid.replace('bw_live_', 'bw_test_'))).toEqual({ ok: false, reason: 'bad_checksum' });
  });

  it('reports a wrong prefix', () => {
    for (const text of [valid.replace('bw_', 'sk_'), valid.replace('bw_', 'BW_'), `x${valid}`, 'ghp_abc']) {
      expect(parseApiKey(text)).toEqual({ ok: false, reason: 'wrong_prefix' });
    }
  });

  it('rejects Unicode look-alikes, whitespace, empty, wrong lengths and huge input as malformed', () => {
    const fullwidthA = '\uFF21';
    const cases = [
      valid.slice(0, 12) + 'ѡ' + valid.slice(13),
      valid.slice(0, 12) + fullwidthA + valid.slice(13),
      valid.replace('bw_live', 'bw_lіve'), // Cyrillic і
      `${valid} `,
      `${valid}\n`,
      valid.slice(0, 20) + ' ' + valid.slice(21),
      valid.slice(0, -1),
      `${valid}0`,
      'bw_',
      'bw_live_',
      `bw_live_${'A'.repeat(10 * 1024)}`,
      `bw_${'a'.repeat(17)}_${'A'.repeat(49)}`,
      `bw__${'A'.repeat(49)}`,
    ];
    for (const text of cases) expect(parseApiKey(text)).toEqual({ ok: false, reason: 'malformed' });
    expect(parseApiKey('')).toEqual({ ok: false, reason: 'wrong_prefix' });
  });

  it('never throws on non-string input', () => {
    for (const value of [undefined, null, 42, ['bw_live'], { toString: () => valid }, Symbol('k')]) {
      expect(parseApiKey(value)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('detects every single-character substitution in the key body (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 'bw_live_'.length, max: valid.length - 1 }), fc.constantFrom(...BASE62), (index, char) => {
        fc.pre(valid[index] !== char);
        const mutated = valid.slice(0, index) + char + valid.slice(index + 1);
        expect(parseApiKey(mutated)).toEqual({ ok: false, reason: 'bad_checksum' });
      }),
    );
  });

  it('never throws and accepts only keys in the exact format (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constant(valid).map((k) => k + ' ')), (text) => {
        const parsed = parseApiKey(text);
        if (parsed.ok) expect(text).toMatch(/^bw_[a-z0-9]{1,16}_[0-9A-Za-z]{49}$/);
      }),
    );
  });

  it('accepts generated keys for any valid environment (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9]{1,16}$/), (env) => {
        const parsed = parseApiKey(generateApiKey(env));
        expect(parsed.ok && parsed.env).toBe(env);
      }),
      { numRuns: 200 },
    );
  });
});

describe('crc32Ascii', () => {
  it('computes the IEEE CRC-32 that zlib computes (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 127 }).map((code) => String.fromCharCode(code)) }), (text) => {
        expect(crc32Ascii(text)).toBe(crc32(text));
      }),
    );
    expect(crc32Ascii('123456789')).toBe(0xcbf43926); // the standard check value
  });
});

describe('scanApiKey', () => {
  it('returns the end of the environment, or the same reason as parseApiKey', () => {
    const key = generateApiKey('staging');
    expect(scanApiKey(key)).toBe('bw_staging'.length);
    for (const text of ['', 'bw_x', key.slice(0, -1) + (key.endsWith('0') ? '1' : '0'), 42]) {
      const parsed = parseApiKey(text);
      expect(scanApiKey(text)).toBe(parsed.ok ? undefined : parsed.reason);
    }
  });
});

describe('helpers', () => {
  it('generates distinct key ids in their own namespace', () => {
    const id = generateKeyId();
    expect(id).toMatch(/^key_[0-9A-Za-z]{22}$/);
    expect(generateKeyId()).not.toBe(id);
  });

  it('validates environments', () => {
    expect(isApiKeyEnv('staging2')).toBe(true);
    expect(isApiKeyEnv('Staging')).toBe(false);
    expect(isApiKeyEnv(7)).toBe(false);
  });
});
