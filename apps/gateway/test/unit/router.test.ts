import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RouteMatch } from '../../src/config/resolve.js';
import { isUnambiguousPath } from '../../src/routing/path-guard.js';
import { Router } from '../../src/routing/router.js';

const prefix = (value: string, methods?: RouteMatch['methods']): RouteMatch => ({ kind: 'prefix', value, methods });
const path = (value: string, methods?: RouteMatch['methods']): RouteMatch => ({ kind: 'path', value, methods });

describe('router', () => {
  const router = new Router<string>();
  router.add(prefix('/'), 'root');
  router.add(prefix('/v1'), 'v1');
  router.add(prefix('/v1/chat/', ['POST']), 'chat');
  router.add(path('/v1/users/:id', ['GET']), 'user');
  router.add(path('/v1/status'), 'status');

  const find = (method: string, target: string): string => {
    const found = router.find(method, target);
    return found.kind === 'found' ? found.value : found.kind;
  };

  it('prefers exact paths, then the longest prefix whose methods match', () => {
    expect(find('GET', '/v1/status')).toBe('status');
    expect(find('GET', '/v1/users/42')).toBe('user');
    expect(find('POST', '/v1/chat/completions')).toBe('chat');
    expect(find('GET', '/v1/chat/completions')).toBe('v1');
    expect(find('GET', '/v1')).toBe('v1');
    expect(find('GET', '/v2')).toBe('root');
  });

  it('matches prefixes by whole segments only', () => {
    expect(find('GET', '/v10/anything')).toBe('root');
    expect(find('POST', '/v1/chatter')).toBe('v1');
  });

  it('GET implies HEAD; a pattern parameter is one non-empty segment', () => {
    expect(find('HEAD', '/v1/users/42')).toBe('user');
    expect(find('GET', '/v1/users/')).toBe('v1');
    expect(find('GET', '/v1/users/42/orders')).toBe('v1');
  });

  it('answers method-not-allowed with the allowed methods when only the method is wrong', () => {
    const narrow = new Router<string>();
    narrow.add(prefix('/only', ['GET']), 'only');
    expect(narrow.find('DELETE', '/only/x')).toEqual({ kind: 'method-not-allowed', allow: ['GET', 'HEAD'] });
    expect(narrow.find('GET', '/elsewhere')).toEqual({ kind: 'not-found' });
  });
});

describe('path guard', () => {
  it('refuses paths that another server could read differently', () => {
    for (const bad of ['/public/../admin', '/public/./x', '/public/..', '/a/%2e%2e/b', '/a/%2E./b', '/a%2fb', '/a%5cb', '/a\\b', '//admin', '/a//b', '/a/..;/b', '/a/%00', 'http://evil/', '*', '', '/a b', '/a\tb']) {
      expect(isUnambiguousPath(bad), bad).toBe(false);
    }
  });

  it('accepts ordinary paths, dots inside names and encoded characters that are not separators', () => {
    for (const good of ['/', '/v1/users/42', '/files/report.v2.csv', '/a/...', '/a/.well-known/x', '/search/%20x', '/a/b/', '/caf%C3%A9', '/emoji/%F0%9F%99%82']) {
      expect(isUnambiguousPath(good), good).toBe(true);
    }
  });

  // Regression: `/admin#x` matched no `/admin` route (a catch-all instead) and went upstream as it
  // was, where Express and Fastify read everything from `#` on as a fragment and served `/admin`.
  it('refuses a fragment in the path, which upstreams read as the end of the path', () => {
    for (const bad of ['/admin#x', '/admin#', '/public#/../admin', '/a/b#']) {
      expect(isUnambiguousPath(bad), bad).toBe(false);
    }
  });

  // Regression: malformed escapes were forwarded, and an upstream with a lenient decoder may read
  // `%c0%ae%c0%ae` (overlong UTF-8) as `..`.
  it('refuses malformed escapes and escaped bytes that are not UTF-8', () => {
    for (const bad of ['/a/%zz', '/a/%', '/a/%4', '/a/%c0%ae%c0%ae/', '/a/%ff%fe', '/a/%ed%a0%80', '/a/%e2%82', '/a/%80']) {
      expect(isUnambiguousPath(bad), bad).toBe(false);
    }
  });

  it('accepts any path of well-formed escapes of UTF-8 text without separators', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), (text) => {
        const segment = encodeURIComponent(text.replace(/[./\\\0]/g, 'x'));
        expect(isUnambiguousPath(`/a/${segment}`), segment).toBe(true);
      }),
    );
  });

  it('never accepts a path whose segments include . or .., whatever surrounds them', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9._-]{0,6}$/), { maxLength: 6 }), fc.constantFrom('.', '..'), fc.nat(6), (segments, dots, at) => {
        const parts = [...segments];
        parts.splice(Math.min(at, parts.length), 0, dots);
        expect(isUnambiguousPath(`/${parts.join('/')}`)).toBe(false);
      }),
    );
  });
});
