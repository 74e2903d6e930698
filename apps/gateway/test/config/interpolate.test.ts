import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpolate } from '../../src/config/interpolate.js';
import { validateConfigTree } from '../../src/config/load.js';

describe('${VAR} interpolation', () => {
  it('replaces references inside strings and collects the variable names', () => {
    const result = interpolate({ a: 'redis://${HOST}:${PORT}/0', list: ['${HOST}'], n: 3 }, { HOST: 'cache', PORT: '6380' });
    expect(result.value).toEqual({ a: 'redis://cache:6380/0', list: ['cache'], n: 3 });
    expect([...result.variables].sort()).toEqual(['HOST', 'PORT']);
    expect(result.problems).toEqual([]);
  });

  it('names every missing variable with the path that references it', () => {
    const result = interpolate({ routes: [{ auth: { secrets: ['${STRIPE_SECRET}'] } }], redis: { url: '${REDIS_URL}' } }, {});
    expect(result.problems).toEqual([
      { path: 'routes[0].auth.secrets[0]', message: 'environment variable STRIPE_SECRET is not set (referenced as ${STRIPE_SECRET})' },
      { path: 'redis.url', message: 'environment variable REDIS_URL is not set (referenced as ${REDIS_URL})' },
    ]);
  });

  it('treats an empty variable as missing unless a fallback is given', () => {
    expect(interpolate('${A}', { A: '' }).problems).toHaveLength(1);
    expect(interpolate('${A:-fallback}', { A: '' }).value).toBe('fallback');
    expect(interpolate('${A:-fallback}', { A: 'set' }).value).toBe('set');
  });

  it('writes a literal ${ for $${ and refuses malformed references', () => {
    expect(interpolate('cost $${NOT_A_VAR}', {}).value).toBe('cost ${NOT_A_VAR}');
    expect(interpolate('${unterminated', {}).problems[0]?.message).toMatch(/malformed/);
    expect(interpolate('${1BAD}', {}).problems[0]?.message).toMatch(/malformed/);
  });

  it('never turns a value into structure: YAML or JSON inside a variable stays a string', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const result = interpolate({ key: '${V}' }, { V: value === '' ? 'x' : value });
        expect(typeof (result.value as { key: unknown }).key).toBe('string');
      }),
    );
  });

  it('does not read inherited properties of the environment object', () => {
    expect(interpolate('${toString}', {}).problems).toHaveLength(1);
  });

  it('a missing secret in a config is reported by name, never with a value', () => {
    const result = validateConfigTree(
      { upstreams: { api: { url: '${API_URL}' } }, routes: [{ match: { prefix: '/h' }, upstream: 'api', auth: { type: 'webhook', scheme: 'github', secrets: ['${GITHUB_WEBHOOK_SECRET}'] } }] },
      { API_URL: 'http://127.0.0.1:1' },
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]).toEqual({ path: 'routes[0].auth.secrets[0]', message: expect.stringContaining('GITHUB_WEBHOOK_SECRET is not set') });
  });
});
