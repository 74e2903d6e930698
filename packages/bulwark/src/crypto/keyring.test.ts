import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecryptionError, isDecryptionError } from './decryption-error.js';
import { createKeyring } from './keyring.js';
import { SUBKEY_PURPOSES } from './subkey-purpose.js';
import type { DecryptionFailureReason } from './decryption-error.js';
import type { SubkeyPurpose } from './subkey-purpose.js';

const newKey = (): Buffer => randomBytes(32);

function decryptFailure(run: () => unknown): DecryptionError {
  try {
    run();
  } catch (error) {
    if (error instanceof DecryptionError) return error;
    throw error;
  }
  throw new Error('expected a DecryptionError, but decryption succeeded');
}

function expectReason(run: () => unknown, reason: DecryptionFailureReason): void {
  expect(decryptFailure(run).reason).toBe(reason);
}

/** Replaces part `index` of an envelope (0 version, 1 key id, 2 iv, 3 ciphertext, 4 tag). */
function withPart(envelope: string, index: number, value: string): string {
  const parts = envelope.split('.');
  parts[index] = value;
  return parts.join('.');
}

describe('createKeyring: options', () => {
  it.each([
    ['a string', 'not-a-buffer'],
    ['a 31-byte key', randomBytes(31)],
    ['a 2 KiB key', randomBytes(2048)],
  ])('rejects %s as the current key', (_label, current) => {
    expect(() => createKeyring({ current: current as Buffer })).toThrow(TypeError);
  });

  it('rejects a previous key equal to the current one', () => {
    const key = newKey();
    expect(() => createKeyring({ current: key, previous: Buffer.from(key) })).toThrow(/previous must be a different key/);
  });

  it('rejects missing options', () => {
    expect(() => createKeyring(undefined as unknown as { current: Buffer })).toThrow(TypeError);
  });

  it('copies the master key, so zeroing the caller’s buffer changes nothing', () => {
    const key = newKey();
    const keyring = createKeyring({ current: key });
    const before = keyring.subkey('session');
    key.fill(0);
    expect(createKeyring({ current: key }).keyId).not.toBe(keyring.keyId);
    expect(keyring.subkey('session')).toEqual(before);
  });

  it('exposes no key material when inspected or serialised', () => {
    const key = newKey();
    const keyring = createKeyring({ current: key, previous: newKey() });
    const shown = `${inspect(keyring, { depth: 10, showHidden: true })}${JSON.stringify(keyring)}`;
    expect(shown).not.toContain(key.toString('hex'));
    expect(shown).not.toContain(key.toString('base64url'));
    expect(Object.keys(keyring).sort()).toEqual(['decrypt', 'encrypt', 'isCurrent', 'keyId', 'previousKeyId', 'previousSubkey', 'reencrypt', 'subkey']);
  });
});

describe('Keyring.subkey', () => {
  const keyring = createKeyring({ current: newKey() });

  it('derives a different key for every purpose', () => {
    const keys = SUBKEY_PURPOSES.map((purpose) => keyring.subkey(purpose).toString('hex'));
    expect(new Set(keys).size).toBe(SUBKEY_PURPOSES.length);
  });

  it('is stable for the same master key and purpose', () => {
    const master = newKey();
    expect(createKeyring({ current: master }).subkey('csrf')).toEqual(createKeyring({ current: Buffer.from(master) }).subkey('csrf'));
  });

  it('differs between master keys', () => {
    expect(createKeyring({ current: newKey() }).subkey('csrf')).not.toEqual(createKeyring({ current: newKey() }).subkey('csrf'));
  });

  it('matches RFC 5869 HKDF-SHA256 with the documented salt and info', async () => {
    const { hkdfSync } = await import('node:crypto');
    const master = newKey();
    const expected = Buffer.from(hkdfSync('sha256', master, Buffer.from('bulwark/hkdf-salt/v1'), Buffer.from('bulwark/v1/api-key-pepper'), 32));
    expect(createKeyring({ current: master }).subkey('api-key-pepper')).toEqual(expected);
  });

  it('returns a copy that callers may overwrite', () => {
    const first = keyring.subkey('session');
    const copy = Buffer.from(first);
    first.fill(0);
    expect(keyring.subkey('session')).toEqual(copy);
  });

  it('honours the requested length', () => {
    expect(keyring.subkey('audit-chain', 64)).toHaveLength(64);
    expect(keyring.subkey('audit-chain', 16)).toHaveLength(16);
  });

  it('accepts application purposes in the app: namespace, separated from each other', () => {
    expect(keyring.subkey('app:invoice-links')).not.toEqual(keyring.subkey('app:password-reset'));
  });

  it.each(['unknown', '', 'app:', 'app:UPPER', 'app:has space', 'encryption-at-rest '])('rejects the purpose %j', (purpose) => {
    expect(() => keyring.subkey(purpose as SubkeyPurpose)).toThrow(TypeError);
  });

  it.each([0, 15, 8161, 32.5])('rejects the length %s', (length) => {
    expect(() => keyring.subkey('session', length)).toThrow(/length must be an integer/);
  });

  it('previousSubkey is undefined without a previous key', () => {
    expect(keyring.previousSubkey('session')).toBeUndefined();
  });

  it('previousSubkey equals the subkey the old keyring derived', () => {
    const old = newKey();
    const rotated = createKeyring({ current: newKey(), previous: old });
    expect(rotated.previousSubkey('api-key-pepper')).toEqual(createKeyring({ current: old }).subkey('api-key-pepper'));
    expect(rotated.subkey('api-key-pepper')).not.toEqual(rotated.previousSubkey('api-key-pepper'));
  });
});

describe('Keyring.keyId', () => {
  it('is 16 hex characters, stable per key and different between keys', () => {
    const master = newKey();
    const a = createKeyring({ current: master });
    expect(a.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(createKeyring({ current: Buffer.from(master) }).keyId).toBe(a.keyId);
    expect(createKeyring({ current: newKey() }).keyId).not.toBe(a.keyId);
  });

  it('is not a prefix of any subkey', () => {
    const keyring = createKeyring({ current: newKey() });
    for (const purpose of SUBKEY_PURPOSES) expect(keyring.subkey(purpose).toString('hex').startsWith(keyring.keyId)).toBe(false);
  });
});

describe('Keyring.encrypt / decrypt', () => {
  const keyring = createKeyring({ current: newKey() });

  it('round-trips arbitrary bytes and AAD', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.option(fc.string({ unit: 'grapheme', maxLength: 64 }), { nil: undefined }), (bytes, aad) => {
        const envelope = keyring.encrypt(Buffer.from(bytes), aad);
        expect(keyring.decrypt(envelope, aad)).toEqual(Buffer.from(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('encrypts strings as UTF-8', () => {
    expect(keyring.decrypt(keyring.encrypt('grüße 🔐')).toString('utf8')).toBe('grüße 🔐');
  });

  it('produces the documented envelope format', () => {
    const envelope = keyring.encrypt('hello');
    expect(envelope).toMatch(new RegExp(`^v1\\.${keyring.keyId}\\.[A-Za-z0-9_-]{16}\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{22}$`));
    expect(keyring.isCurrent(envelope)).toBe(true);
  });

  it('uses a fresh IV every time', () => {
    const ivs = new Set(Array.from({ length: 200 }, () => keyring.encrypt('same').split('.')[2]));
    expect(ivs.size).toBe(200);
  });

  it('handles an empty plaintext', () => {
    const envelope = keyring.encrypt('');
    expect(envelope.split('.')[3]).toBe('');
    expect(keyring.decrypt(envelope)).toHaveLength(0);
  });

  it('treats an absent AAD as the empty AAD', () => {
    expect(keyring.decrypt(keyring.encrypt('x'), '').toString()).toBe('x');
  });

  it('refuses the wrong AAD', () => {
    const envelope = keyring.encrypt('secret value', 'row:1');
    expectReason(() => keyring.decrypt(envelope, 'row:2'), 'authentication_failed');
    expectReason(() => keyring.decrypt(envelope), 'authentication_failed');
  });

  it('refuses the same plaintext under another master key', () => {
    const other = createKeyring({ current: newKey() });
    expectReason(() => other.decrypt(keyring.encrypt('x')), 'unknown_key');
  });

  it('fails authentication when any single byte of the envelope text is changed', () => {
    const envelope = keyring.encrypt('attack at dawn', 'ctx');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let index = 0; index < envelope.length; index += 1) {
      const original = envelope[index]!;
      const replacement = original === '.' ? '-' : alphabet[(alphabet.indexOf(original) + 1) % alphabet.length]!;
      const tampered = `${envelope.slice(0, index)}${replacement}${envelope.slice(index + 1)}`;
      expect(() => keyring.decrypt(tampered, 'ctx'), `position ${index}`).toThrow(DecryptionError);
    }
  });

  it('fails authentication when any bit of the IV, ciphertext or tag is flipped', () => {
    const envelope = keyring.encrypt(randomBytes(40), 'ctx');
    for (const part of [2, 3, 4]) {
      const bytes = Buffer.from(envelope.split('.')[part]!, 'base64url');
      for (let bit = 0; bit < bytes.length * 8; bit += 1) {
        const flipped = Buffer.from(bytes);
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        expectReason(() => keyring.decrypt(withPart(envelope, part, flipped.toString('base64url')), 'ctx'), 'authentication_failed');
      }
    }
  });

  it('refuses every truncation of a valid envelope', () => {
    const envelope = keyring.encrypt('truncate me');
    for (let length = 0; length < envelope.length; length += 1) {
      expect(() => keyring.decrypt(envelope.slice(0, length))).toThrow(DecryptionError);
    }
  });

  it('refuses a ciphertext moved between envelopes (cut and paste)', () => {
    const a = keyring.encrypt('aaaaaaaa').split('.');
    const b = keyring.encrypt('bbbbbbbb').split('.');
    expectReason(() => keyring.decrypt([a[0], a[1], a[2], b[3], a[4]].join('.')), 'authentication_failed');
  });

  it.each([
    ['an empty string', ''],
    ['garbage', 'not an envelope'],
    ['too many parts', 'v1.0123456789abcdef.a.b.c.d'],
    ['a non-hex key id', 'v1.ZZZZZZZZZZZZZZZZ.AAAAAAAAAAAAAAAA..AAAAAAAAAAAAAAAAAAAAAA'],
    ['a short IV', 'v1.0123456789abcdef.AAAA..AAAAAAAAAAAAAAAAAAAAAA'],
    ['a short tag', 'v1.0123456789abcdef.AAAAAAAAAAAAAAAA..AAAA'],
    ['non-base64 ciphertext', 'v1.0123456789abcdef.AAAAAAAAAAAAAAAA.%%%%.AAAAAAAAAAAAAAAAAAAAAA'],
    ['padded parts', 'v1.0123456789abcdef.AAAAAAAAAAAAAAAA.QQ==.AAAAAAAAAAAAAAAAAAAAAA'],
  ])('refuses %s as malformed', (_label, envelope) => {
    expectReason(() => keyring.decrypt(envelope), 'malformed');
  });

  it('refuses a non-string envelope as malformed', () => {
    expectReason(() => keyring.decrypt(42 as unknown as string), 'malformed');
  });

  it('names an unsupported version', () => {
    const envelope = keyring.encrypt('x').replace(/^v1\./, 'v2.');
    const error = decryptFailure(() => keyring.decrypt(envelope));
    expect(error.reason).toBe('unsupported_version');
    expect(error.message).toContain('v2');
  });

  it('names the unknown key id and never leaks key material or plaintext', () => {
    const master = newKey();
    const other = createKeyring({ current: master });
    const envelope = other.encrypt('the plaintext');
    const error = decryptFailure(() => keyring.decrypt(envelope));
    expect(error.reason).toBe('unknown_key');
    expect(error.message).toContain(other.keyId);
    expect(error.message).not.toContain('the plaintext');
    expect(error.message).not.toContain(master.toString('base64url'));
    expect(isDecryptionError(error)).toBe(true);
  });

  it('never decrypts hostile strings, and never throws anything but DecryptionError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        expect(() => keyring.decrypt(text)).toThrow(DecryptionError);
        expect(() => keyring.decrypt(`v1.${keyring.keyId}.${text}`)).toThrow(DecryptionError);
      }),
    );
  });

  it('rejects plaintext and AAD of the wrong type with a TypeError', () => {
    expect(() => keyring.encrypt(42 as unknown as string)).toThrow(TypeError);
    expect(() => keyring.encrypt('x', 42 as unknown as string)).toThrow(TypeError);
    expect(() => keyring.decrypt(keyring.encrypt('x'), 42 as unknown as string)).toThrow(TypeError);
  });
});

describe('rotation', () => {
  const oldKey = newKey();
  const newMaster = newKey();
  const before = createKeyring({ current: oldKey });
  const during = createKeyring({ current: newMaster, previous: oldKey });
  const after = createKeyring({ current: newMaster });

  it('decrypts data written under the previous key', () => {
    const envelope = before.encrypt('written before the rotation', 'row:7');
    expect(during.decrypt(envelope, 'row:7').toString()).toBe('written before the rotation');
    expect(during.isCurrent(envelope)).toBe(false);
    expect(during.previousKeyId).toBe(before.keyId);
  });

  it('encrypts new data under the new key only', () => {
    const envelope = during.encrypt('new');
    expect(envelope.split('.')[1]).toBe(after.keyId);
    expect(after.decrypt(envelope).toString()).toBe('new');
    expectReason(() => before.decrypt(envelope), 'unknown_key');
  });

  it('reencrypt moves old envelopes to the new key and leaves current ones unchanged', () => {
    const old = before.encrypt('payload', 'ctx');
    const moved = during.reencrypt(old, 'ctx');
    expect(moved).not.toBe(old);
    expect(during.isCurrent(moved)).toBe(true);
    expect(after.decrypt(moved, 'ctx').toString()).toBe('payload');
    expect(during.reencrypt(moved, 'ctx')).toBe(moved);
  });

  it('reencrypt refuses a tampered envelope instead of laundering it', () => {
    const old = before.encrypt('payload', 'ctx');
    expectReason(() => during.reencrypt(old, 'other'), 'authentication_failed');
  });

  it('after the previous key is dropped, un-migrated data is refused with unknown_key', () => {
    expectReason(() => after.decrypt(before.encrypt('forgotten')), 'unknown_key');
  });
});
