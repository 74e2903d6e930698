import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateSecret } from '../crypto/generate-secret.js';
import { assessSecret } from './secret-strength.js';
import type { SecretWeakness } from './secret-strength.js';

function weakness(value: string, minBytes = 32): SecretWeakness | undefined {
  const result = assessSecret(value, { minBytes });
  if (!result.ok) expect(result.problem).not.toContain(value);
  return result.ok ? undefined : result.weakness;
}

describe('assessSecret', () => {
  it('accepts generated secrets (43 characters)', () => {
    for (let i = 0; i < 2000; i += 1) expect(weakness(generateSecret(32))).toBeUndefined();
  });

  // A random value of exactly the minimum length is refused with a tiny probability (a filler run
  // or a stand-alone `test` by chance, ~10⁻⁶). Hash-derived bytes keep this sample deterministic.
  it('accepts random base64url and hex of the minimum length', () => {
    for (let i = 0; i < 5000; i += 1) {
      const bytes = createHash('sha256').update(`sample-${i}`).digest();
      expect(weakness(bytes.subarray(0, 18).toString('base64url'), 24)).toBeUndefined();
      expect(weakness(bytes.subarray(18, 30).toString('hex'), 24)).toBeUndefined();
    }
  });

  it('does not count a short word inside another word', () => {
    expect(weakness('latest-contest-9Fq2LzX8wK1pR7tY', 24)).toBeUndefined();
    expect(weakness('test-9Fq2LzX8wK1pR7tYbN3mQ', 24)).toBe('placeholder');
  });

  it.each([
    'changeme',
    'CHANGEME',
    'change-me-in-production-please!!',
    'secret',
    'password',
    'keyboard cat',
    'your-secret-here',
    'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
    '00000000000000000000000000000000',
    '12345678901234567890123456789012',
    'abcdefghijklmnopqrstuvwxyz123456',
    'test',
    'example',
    'my-super-secret-password-1234567',
    'test-secret-for-local-dev-only!!',
    'replaceme_with_a_real_secret_val',
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab',
  ])('refuses the placeholder %j', (value) => {
    expect(weakness(value)).toBe('placeholder');
  });

  it('refuses a value that repeats a short unit', () => {
    expect(weakness('Zq8#Zq8#Zq8#Zq8#Zq8#Zq8#Zq8#Zq8#')).toBe('repetitive');
    expect(weakness('k3J9x-Lq2Wk3J9x-Lq2Wk3J9x-Lq2Wk3J9')).toBe('repetitive');
  });

  it('refuses a short random value', () => {
    expect(weakness(generateSecret(16), 32)).toBe('too_short');
  });

  it('refuses a long value with too little entropy', () => {
    expect(weakness('abacabadabacabaeabacabadabacabaf')).toBe('low_entropy');
  });

  it('counts bytes, not characters', () => {
    expect(weakness('ü'.repeat(3) + generateSecret(16).slice(0, 10), 16)).toBeUndefined();
  });

  it('does not refuse a long random value for containing a deny-listed word by chance', () => {
    const random = generateSecret(32);
    expect(weakness(`${random.slice(0, 20)}test${random.slice(20)}`)).toBeUndefined();
    expect(weakness(`${random.slice(0, 20)}Secret${random.slice(20)}`)).toBeUndefined();
  });

  it('never throws and never echoes the value', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.integer({ min: 1, max: 64 }), (value, minBytes) => {
        const result = assessSecret(value, { minBytes });
        if (!result.ok && value.length >= 4) expect(result.problem).not.toContain(value);
      }),
    );
  });
});
