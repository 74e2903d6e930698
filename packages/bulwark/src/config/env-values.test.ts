import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envCidrList } from './env-cidr-list.js';
import { envBoolean, envEnum, envString, envUrl, isHostOrIp } from './env-values.js';
import { loadEnv } from './load-env.js';
import type { EnvSchema } from './env-schema.js';

function load<T>(schema: EnvSchema<T>, raw: string | undefined) {
  return loadEnv(z.object({ X: schema }), raw === undefined ? {} : { X: raw });
}

function value<T>(schema: EnvSchema<T>, raw: string | undefined): T {
  const result = load(schema, raw);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(raw)} to be accepted: ${result.issues[0]?.problem}`);
  return result.env.X;
}

function problem<T>(schema: EnvSchema<T>, raw: string | undefined): string {
  const result = load(schema, raw);
  if (result.ok) throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
  return result.issues[0]?.problem ?? '';
}

describe('envBoolean', () => {
  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('parses %s', (raw, expected) => {
    expect(value(envBoolean(), raw)).toBe(expected);
  });

  it.each(['TRUE', 'True', 'yes', 'no', 'on', 'off', ' true', 'true ', '2', '-1', 'toString', '__proto__', 'constructor'])('refuses %j', (raw) => {
    expect(problem(envBoolean({ default: false }), raw)).toBe('must be true, false, 1 or 0 (exactly, lower case)');
  });

  it('defaults only when unset', () => {
    expect(value(envBoolean({ default: true }), undefined)).toBe(true);
    expect(problem(envBoolean({ default: true }), '')).toBe('is set but empty');
    expect(problem(envBoolean(), undefined)).toBe('is not set (required)');
  });

  it('refuses a non-boolean default', () => {
    expect(() => envBoolean({ default: 'true' as unknown as boolean })).toThrow(TypeError);
  });
});

describe('envEnum', () => {
  const level = envEnum(['error', 'warn', 'info'], { default: 'info' });

  it('accepts the listed values exactly', () => {
    expect(value(level, 'warn')).toBe('warn');
    expect(value(level, undefined)).toBe('info');
  });

  it.each(['WARN', 'warn ', 'warning', 'toString', '__proto__'])('refuses %j and lists the allowed values', (raw) => {
    expect(problem(level, raw)).toBe('must be one of error, warn, info');
  });

  it('refuses bad definitions', () => {
    expect(() => envEnum([] as unknown as ['a'])).toThrow(TypeError);
    expect(() => envEnum(['a', ''])).toThrow(TypeError);
    expect(() => envEnum(['a', 'b'], { default: 'c' as 'a' })).toThrow(/default must be one of a, b/);
  });
});

describe('envUrl', () => {
  const redis = envUrl({ protocols: ['redis', 'rediss:'] });

  it('accepts URLs with an allowed scheme and returns them unchanged', () => {
    expect(value(redis, 'redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(value(redis, 'rediss://user:p%40ss@cache.internal:6380/2')).toBe('rediss://user:p%40ss@cache.internal:6380/2');
  });

  it('never quotes the URL, which may hold a password', () => {
    for (const raw of ['http://user:hunter2@cache:6379', 'redis://user:hunter2@ca che:6379', 'redis//user:hunter2@cache']) {
      const result = load(redis, raw);
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result)).not.toContain('hunter2');
    }
    expect(problem(redis, 'http://user:hunter2@cache:6379')).toBe('must be a redis or rediss URL (scheme redis: or rediss: expected)');
  });

  it.each(['not a url', 'redis//missing-colon', ' redis://host', 'redis://host ', 'redis://ho st', 'redis:', 'redis://', 'postgres://host/db'])('refuses %j', (raw) => {
    expect(problem(redis, raw)).toMatch(/^must /);
  });

  it('allows a URL without a host when asked to', () => {
    const pg = envUrl({ protocols: ['postgres'], requireHost: false });
    expect(value(pg, 'postgres:///db?host=/run/postgresql')).toBe('postgres:///db?host=/run/postgresql');
  });

  it('refuses bad definitions', () => {
    expect(() => envUrl({ protocols: [] })).toThrow(TypeError);
    expect(() => envUrl({ protocols: ['not a scheme'] })).toThrow(TypeError);
    expect(() => envUrl({ protocols: ['redis'], default: 'http://x' })).toThrow(/default must be a redis URL/);
  });
});

describe('envString', () => {
  it('refuses control characters and over-long values', () => {
    expect(problem(envString(), 'a\u0000b')).toMatch(/control characters/);
    expect(problem(envString(), 'line1\nline2')).toMatch(/control characters/);
    expect(problem(envString({ maxLength: 4 }), 'abcde')).toBe('must be at most 4 characters');
  });

  it('applies the extra check with the expectation in the message', () => {
    const host = envString({ expects: 'an IP address or a host name', validate: isHostOrIp });
    expect(value(host, '::1')).toBe('::1');
    expect(value(host, 'api.example.com')).toBe('api.example.com');
    expect(problem(host, 'bad host!')).toBe('must be an IP address or a host name');
  });

  it('refuses a default that fails its own checks', () => {
    expect(() => envString({ default: '' })).toThrow(TypeError);
    expect(() => envString({ validate: () => false, default: 'x' })).toThrow(TypeError);
  });
});

describe('isHostOrIp', () => {
  it.each(['127.0.0.1', '0.0.0.0', '::', '::1', 'localhost', 'gateway-1.internal', 'a.b.c'])('accepts %s', (host) => {
    expect(isHostOrIp(host)).toBe(true);
  });
  it.each(['', 'has space', '-leading.dash', 'trailing-.dash', 'under_score', 'a..b', '127.1/8', `${'a'.repeat(64)}.com`])('refuses %j', (host) => {
    expect(isHostOrIp(host)).toBe(false);
  });
});

describe('envCidrList', () => {
  const list = envCidrList();

  it('parses addresses, ranges and presets, allowing spaces after commas', () => {
    expect(value(list, '10.0.0.0/8, ::1,loopback , 2001:db8::/32,192.168.1.7')).toEqual(['10.0.0.0/8', '::1', 'loopback', '2001:db8::/32', '192.168.1.7']);
  });

  it('returns a frozen list', () => {
    expect(Object.isFrozen(value(list, '127.0.0.1'))).toBe(true);
  });

  it.each([
    ['an empty entry', '10.0.0.0/8,,::1', /empty entry \(entry 2\)/],
    ['a trailing comma', '10.0.0.0/8,', /empty entry \(entry 2\)/],
    ['a legacy IPv4 form', '127.1', /entry 1 is not/],
    ['a hex IPv4 form', '10.0.0.0/8,0x7f.0.0.1', /entry 2 is not/],
    ['a prefix too long', '10.0.0.0/33', /entry 1 is not/],
    ['a negative prefix', '::1/-1', /entry 1 is not/],
    ['a host name', 'prometheus.internal', /entry 1 is not/],
    ['an unknown preset', 'public', /entry 1 is not/],
  ])('refuses %s by position, without quoting it', (_label, raw, message) => {
    expect(problem(list, raw)).toMatch(message);
  });

  it('never accepts what is not a list of valid entries', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('loopback', 'private')), { minLength: 1, maxLength: 5 }), (entries) => {
        expect(value(list, entries.join(','))).toEqual(entries);
      }),
    );
  });

  it('never quotes an entry', () => {
    expect(JSON.stringify(load(list, '10.0.0.0/8,203.0.113.777'))).not.toContain('203.0.113.777');
  });

  it('validates its default', () => {
    expect(value(envCidrList({ default: ['loopback'] }), undefined)).toEqual(['loopback']);
    expect(() => envCidrList({ default: ['nope'] })).toThrow(TypeError);
  });
});
