import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { shannonEntropy } from './entropy.js';
import { generateSecret } from './generate-secret.js';
import { generateMasterKey, parseMasterKey } from './master-key.js';

describe('parseMasterKey', () => {
  it('decodes a generated key to 32 bytes', () => {
    const key = generateMasterKey();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(parseMasterKey(key)).toHaveLength(32);
  });

  it('accepts longer keys', () => {
    expect(parseMasterKey(randomBytes(64).toString('base64url'))).toHaveLength(64);
  });

  it.each([
    ['an empty string', '', /empty/],
    ['a key of 31 bytes', randomBytes(31).toString('base64url'), /at least 32 bytes, got 31/],
    ['standard base64 with + / =', `${randomBytes(32).toString('base64').replace(/[A-Za-z0-9]/, '+')}`, /base64url without padding/],
    ['a key with a space', `${generateMasterKey().slice(0, 20)} ${generateMasterKey().slice(0, 22)}`, /not valid base64url/],
    ['32 zero bytes', Buffer.alloc(32).toString('base64url'), /not random/],
    ['changeme repeated', 'changeme'.repeat(6), /not random/],
    ['a byte counter', Buffer.from(Array.from({ length: 48 }, (_, i) => i % 8)).toString('base64url'), /not random/],
  ])('rejects %s with a TypeError that does not contain the value', (_label, value, message) => {
    let error: unknown;
    try {
      parseMasterKey(value);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(message);
    if (value.length > 0) expect((error as Error).message).not.toContain(value);
  });

  it('tells how to generate a proper key', () => {
    expect(() => parseMasterKey('short')).toThrow(/bulwark secrets generate/);
  });

  it('rejects non-string input with a TypeError', () => {
    expect(() => parseMasterKey(undefined as unknown as string)).toThrow(TypeError);
  });
});

describe('generateSecret', () => {
  it('returns base64url of the requested number of random bytes', () => {
    expect(Buffer.from(generateSecret(), 'base64url')).toHaveLength(32);
    expect(Buffer.from(generateSecret(48), 'base64url')).toHaveLength(48);
    expect(generateSecret()).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('never returns the same value twice', () => {
    const values = new Set(Array.from({ length: 1000 }, () => generateSecret(16)));
    expect(values.size).toBe(1000);
  });

  it.each([0, 8, 15, 1025, 16.5, Number.NaN, '32'])('rejects bytes=%s', (bytes) => {
    expect(() => generateSecret(bytes as number)).toThrow(/bytes must be an integer between 16 and 1024/);
  });
});

describe('shannonEntropy', () => {
  it('is 0 for a repeated symbol and log2(n) for n distinct symbols', () => {
    expect(shannonEntropy('aaaaaaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
    expect(shannonEntropy(new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]))).toBe(3);
  });

  it('is 0 for an empty value', () => {
    expect(shannonEntropy('')).toBe(0);
  });

  it('counts code points, not UTF-16 units', () => {
    expect(shannonEntropy('😀😀')).toBe(0);
  });
});
