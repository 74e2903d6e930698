import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKeyring, generateMasterKey, parseMasterKey } from '../crypto/index.js';
import { checkSubject, deriveSessionKeys, isSessionId, newToken, parseToken, sessionIdOf } from './session-token.js';

const keyring = createKeyring({ current: parseMasterKey(generateMasterKey()) });
const keys = deriveSessionKeys(keyring);

describe('session tokens', () => {
  it('parses every token it issues into the tag and the SHA-256 id', () => {
    const [tag] = keys.userTags({ tenant: 't', userId: 'u' }) as [string];
    for (let index = 0; index < 100; index += 1) {
      const token = newToken(tag);
      expect(parseToken(token)).toEqual({ tag, id: sessionIdOf(token) });
      expect(isSessionId(sessionIdOf(token))).toBe(true);
    }
  });

  it('refuses anything that is not exactly a token', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (text) => {
        const parsed = parseToken(text);
        if (parsed !== undefined) expect(text).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
      }),
    );
    const token = newToken('A'.repeat(22));
    for (const bad of [`${token}=`, ` ${token}`, token.replace('.', '..'), token.toUpperCase().replace('.', ','), token.slice(1), null, 42, { toString: () => token }, [token]]) {
      expect(parseToken(bad)).toBeUndefined();
    }
  });

  it('derives a user tag per tenant and user, keyed: nothing in it says who the user is', () => {
    const tag = (tenant: string, userId: string) => keys.userTags({ tenant, userId })[0];
    expect(tag('acme', 'alice')).toBe(tag('acme', 'alice'));
    expect(tag('acme', 'alice')).not.toBe(tag('globex', 'alice'));
    // The two parts stay apart whatever they contain.
    expect(tag('a:b', 'c')).not.toBe(tag('a', 'b:c'));
    expect(tag('a\0b', 'c')).not.toBe(tag('a', 'b\0c'));
    expect(tag('acme', 'alice')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const otherServer = deriveSessionKeys(createKeyring({ current: parseMasterKey(generateMasterKey()) }));
    expect(otherServer.userTags({ tenant: 'acme', userId: 'alice' })[0]).not.toBe(tag('acme', 'alice'));
  });

  it('derives lockout ids from the lockout key, and keeps the previous key’s during a rotation', () => {
    const [tag] = keys.userTags({ tenant: 't', userId: 'u' }) as [string];
    const { lockId, previousLockId } = keys.lockIds(tag);
    expect(lockId).not.toBe(tag);
    expect(previousLockId).toBe(lockId);
    const previous = parseMasterKey(generateMasterKey());
    const before = deriveSessionKeys(createKeyring({ current: previous }));
    const during = deriveSessionKeys(createKeyring({ current: parseMasterKey(generateMasterKey()), previous }));
    const [oldTag] = before.userTags({ tenant: 't', userId: 'u' }) as [string];
    expect(during.userTags({ tenant: 't', userId: 'u' })).toHaveLength(2);
    expect(during.userTags({ tenant: 't', userId: 'u' })[1]).toBe(oldTag);
    expect(during.lockIds(oldTag).previousLockId).toBe(before.lockIds(oldTag).lockId);
    expect(during.bindingHashes('192.0.2.1')[1]).toBe(before.bindingHashes('192.0.2.1')[0]);
  });

  it('accepts subjects of 1–256 characters and names what is wrong otherwise', () => {
    expect(checkSubject('m', { tenant: 'a', userId: 'b', extra: 1 })).toEqual({ tenant: 'a', userId: 'b' });
    expect(() => checkSubject('m', { tenant: '', userId: 'b' })).toThrow(/m: tenant/);
    expect(() => checkSubject('m', { tenant: 'a', userId: 'x'.repeat(257) })).toThrow(/m: userId/);
    expect(() => checkSubject('m', { tenant: 'a', userId: 7 })).toThrow(TypeError);
    expect(() => checkSubject('m', null)).toThrow(TypeError);
  });
});
