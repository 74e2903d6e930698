import { describe, expect, it } from 'vitest';
import { adminPrefixOf, consoleBaseOf, sessionPathOf } from './paths.js';

describe('consoleBaseOf and sessionPathOf', () => {
  it('find the session API below the page, whatever the console path', () => {
    expect(consoleBaseOf('/console/')).toBe('/console/');
    expect(consoleBaseOf('/ops/console/')).toBe('/ops/console/');
    expect(consoleBaseOf('/console/index.html')).toBe('/console/');
    expect(sessionPathOf('/ops/console/')).toBe('/ops/console/api/session');
    expect(sessionPathOf('')).toBe('/api/session');
  });
});

describe('adminPrefixOf', () => {
  it('takes the prefix the session names, without a trailing slash', () => {
    expect(adminPrefixOf('/admin')).toBe('/admin');
    expect(adminPrefixOf('/ops/admin')).toBe('/ops/admin');
    expect(adminPrefixOf('/ops/admin/')).toBe('/ops/admin');
  });

  it('falls back to /admin for anything that is not a plain same-origin path', () => {
    for (const value of [undefined, null, 42, '', '/', 'admin', '//evil.example/admin', 'https://evil.example/admin', '/admin?x=1', '/admin#x', '/ad min', '/admin\\x']) {
      expect(adminPrefixOf(value), String(value)).toBe('/admin');
    }
  });
});
