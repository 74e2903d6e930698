import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_COOKIE_BYTES, clearedCookie, cookieName, readCookie, resolveCookieOptions, serializeCookie } from './cookie.js';

const defaults = resolveCookieOptions('test', undefined);

describe('cookies', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('writes __Host- prefixed, Secure, HttpOnly, SameSite=Lax cookies with Path=/ and no Domain by default', () => {
    expect(cookieName('sid', defaults.secure)).toBe('__Host-sid');
    expect(serializeCookie(cookieName('sid', true), 'abc', defaults)).toBe('__Host-sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax');
    const strict = resolveCookieOptions('test', { sameSite: 'strict', maxAgeSeconds: 3600, httpOnly: false });
    expect(serializeCookie('__Host-csrf', 'v', strict)).toBe('__Host-csrf=v; Path=/; Max-Age=3600; Secure; SameSite=Strict');
    expect(clearedCookie('__Host-sid', defaults)).toBe('__Host-sid=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax');
  });

  it('drops the prefix and Secure only when asked to, for plain-HTTP development, and never in production', () => {
    vi.stubEnv('NODE_ENV', 'development');
    const insecure = resolveCookieOptions('test', { secure: false });
    expect(cookieName('sid', insecure.secure)).toBe('sid');
    expect(serializeCookie('sid', 'v', insecure)).toBe('sid=v; Path=/; HttpOnly; SameSite=Lax');
    expect(() => serializeCookie('__Host-sid', 'v', insecure)).toThrow(/requires secure/);
    vi.stubEnv('NODE_ENV', 'production');
    expect(() => resolveCookieOptions('test', { secure: false })).toThrow(/NODE_ENV is production/);
  });

  it('refuses a cookie over 4 KB instead of letting the browser drop it silently', () => {
    const overhead = serializeCookie('__Host-big', '', defaults).length;
    expect(serializeCookie('__Host-big', 'a'.repeat(MAX_COOKIE_BYTES - overhead), defaults)).toHaveLength(MAX_COOKIE_BYTES);
    expect(() => serializeCookie('__Host-big', 'a'.repeat(MAX_COOKIE_BYTES - overhead + 1), defaults)).toThrow(RangeError);
  });

  it('refuses names and values a cookie cannot carry, and bad attributes', () => {
    for (const value of ['a;b', 'a b', 'a"b', 'a\\b', 'a,b', 'é', 'a\nb']) expect(() => serializeCookie('__Host-x', value, defaults)).toThrow(TypeError);
    for (const name of ['', 'a b', 'a=b', 'a;b', 'é']) expect(() => serializeCookie(name, 'v', defaults)).toThrow(TypeError);
    for (const name of ['__Host-sid', '__secure-sid', 'x'.repeat(129)]) expect(() => cookieName(name, true)).toThrow(TypeError);
    expect(() => resolveCookieOptions('test', { sameSite: 'none', secure: false })).toThrow(/sameSite 'none' requires secure/);
    expect(() => resolveCookieOptions('test', { sameSite: 'LAX' as 'lax' })).toThrow(/cookie.sameSite/);
    expect(() => resolveCookieOptions('test', { maxAgeSeconds: 0 })).toThrow(/maxAgeSeconds/);
    expect(() => resolveCookieOptions('test', { secure: 'yes' as unknown as boolean })).toThrow(/cookie.secure/);
  });

  it('reads one cookie out of a Cookie header, the first of its name winning', () => {
    expect(readCookie('a=1; __Host-sid=xyz; b=2', '__Host-sid')).toBe('xyz');
    expect(readCookie('__Host-sid=first; __Host-sid=second', '__Host-sid')).toBe('first');
    expect(readCookie('x__Host-sid=no; __Host-sidx=no', '__Host-sid')).toBeUndefined();
    expect(readCookie('  __Host-sid =  "quoted"  ', '__Host-sid')).toBe('quoted');
    expect(readCookie(['a=1', '__Host-sid=v'], '__Host-sid')).toBe('v');
    expect(readCookie('__Host-sid=', '__Host-sid')).toBe('');
    for (const header of [undefined, '', ';;;', 'novalue', '=v']) expect(readCookie(header, '__Host-sid')).toBeUndefined();
  });

  it('reads back every cookie it writes, wherever it sits in the header', () => {
    const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,20}$/);
    const octets = fc.stringMatching(/^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{0,40}$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(token, octets), { maxLength: 5 }), token, octets, (others, name, value) => {
        const before = others.filter(([other]) => other !== name);
        const pair = serializeCookie(name, value, { ...defaults, secure: true }).split(';')[0] as string;
        const header = [...before.map(([other, otherValue]) => `${other}=${otherValue}`), pair].join('; ');
        const expected = value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
        expect(readCookie(header, name)).toBe(expected);
      }),
    );
  });
});
