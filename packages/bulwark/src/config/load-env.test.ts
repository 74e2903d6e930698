import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { envBoolean, envEnum } from './env-values.js';
import { envInteger } from './env-number.js';
import { envSecret } from './env-secret.js';
import { ENVIRONMENT, formatEnvIssues, loadEnv, loadEnvOrExit } from './load-env.js';

const schema = z.object({
  PORT: envInteger({ min: 1, max: 65535, default: 8080 }),
  DEBUG: envBoolean({ default: false }),
  MODE: envEnum(['a', 'b']),
  TOKEN: envSecret({ minBytes: 24 }).optional(),
});

describe('loadEnv', () => {
  it('returns the typed values and the defaults', () => {
    const result = loadEnv(schema, { MODE: 'a' });
    expect(result).toEqual({ ok: true, env: { PORT: 8080, DEBUG: false, MODE: 'a' } });
  });

  it('drops variables the schema does not declare', () => {
    const result = loadEnv(schema, { MODE: 'b', HOME: '/root', AWS_SECRET_ACCESS_KEY: 'nope' });
    expect(result.ok && Object.keys(result.env).sort()).toEqual(['DEBUG', 'MODE', 'PORT']);
  });

  it('freezes the result, deeply', () => {
    const nested = z.object({ LIST: z.string().transform((value) => ({ items: value.split(',') })) });
    const result = loadEnv(nested, { LIST: 'a,b' });
    if (!result.ok) throw new Error('expected success');
    expect(Object.isFrozen(result.env)).toBe(true);
    expect(Object.isFrozen(result.env.LIST)).toBe(true);
    expect(Object.isFrozen(result.env.LIST.items)).toBe(true);
    expect(() => {
      (result.env as { LIST: { items: string[] } }).LIST.items.push('c');
    }).toThrow(TypeError);
  });

  it('reports every invalid and missing variable at once, by name, never with the value', () => {
    const result = loadEnv(schema, { PORT: '80a80', DEBUG: 'yes', TOKEN: 'changeme-changeme' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((issue) => issue.variable)).toEqual(['PORT', 'DEBUG', 'MODE', 'TOKEN']);
    for (const issue of result.issues) expect(issue.fix.length).toBeGreaterThan(0);
    const text = JSON.stringify(result.issues);
    for (const value of ['80a80', 'changeme-changeme']) expect(text).not.toContain(value);
    expect(Object.isFrozen(result.issues)).toBe(true);
  });

  it('reads process.env by default', () => {
    vi.stubEnv('BULWARK_TEST_LOAD_ENV_PORT', '1234');
    try {
      const result = loadEnv(z.object({ BULWARK_TEST_LOAD_ENV_PORT: envInteger({ min: 1, max: 65535 }) }));
      expect(result.ok && result.env.BULWARK_TEST_LOAD_ENV_PORT).toBe(1234);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('phrases issues from plain zod schemas and redacts values they might quote', () => {
    const plain = z.object({
      NAME: z.string().describe('The service name, e.g. billing.'),
      CODE: z.string().refine(() => false, { message: 'bad code sup3rsecretvalue' }),
    });
    const result = loadEnv(plain, { CODE: 'sup3rsecretvalue' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]).toEqual({ variable: 'NAME', problem: 'is not set (required)', fix: 'Set NAME: The service name, e.g. billing.' });
    expect(result.issues[1]).toEqual({ variable: 'CODE', problem: 'bad code [redacted]', fix: 'Set CODE to a valid value.' });
  });

  it('attributes object-level issues without a path to the environment, or to params.variable', () => {
    const crossing = z
      .object({ A: z.string().optional(), B: z.string().optional() })
      .refine((env) => env.A !== undefined || env.B !== undefined, { message: 'needs A or B' })
      .refine(() => false, { message: 'always', params: { variable: 'B', fix: 'Set B.' } });
    const result = loadEnv(crossing, {});
    expect(!result.ok && result.issues.map((issue) => [issue.variable, issue.problem])).toEqual([
      [ENVIRONMENT, 'needs A or B'],
      ['B', 'always'],
    ]);
  });
});

describe('formatEnvIssues', () => {
  it('lists each problem with its fix under a count', () => {
    const text = formatEnvIssues([
      { variable: 'PORT', problem: 'must be an integer', fix: 'Set it to 8080.' },
      { variable: 'MODE', problem: 'is not set (required)', fix: 'Set it to a or b.' },
    ]);
    expect(text).toBe('Invalid environment: 2 problems.\n  ✗ PORT: must be an integer\n    fix: Set it to 8080.\n  ✗ MODE: is not set (required)\n    fix: Set it to a or b.\n');
  });

  it('says "1 problem" for one', () => {
    expect(formatEnvIssues([{ variable: 'A', problem: 'p', fix: 'f' }])).toMatch(/^Invalid environment: 1 problem\.\n/);
  });
});

describe('loadEnvOrExit', () => {
  it('returns the environment when valid, without writing or exiting', () => {
    const stderr = { write: vi.fn() };
    const exit = vi.fn();
    expect(loadEnvOrExit(schema, { source: { MODE: 'a' }, stderr, exit }).MODE).toBe('a');
    expect(stderr.write).not.toHaveBeenCalled();
    expect(exit).not.toHaveBeenCalled();
  });

  it('prints every issue and exits with code 1', () => {
    let written = '';
    const stderr = { write: (text: string) => (written += text) };
    const exit = vi.fn((code: number): never => {
      throw new Error(`exit ${code}`);
    });
    expect(() => loadEnvOrExit(schema, { source: { PORT: '0' }, stderr, exit })).toThrow('exit 1');
    expect(exit).toHaveBeenCalledWith(1);
    expect(written).toContain('PORT');
    expect(written).toContain('MODE');
  });

  it('never returns an invalid environment, even when the injected exit returns', () => {
    expect(() => loadEnvOrExit(schema, { source: {}, stderr: { write: () => true }, exit: () => undefined })).toThrow(/invalid environment: MODE/);
  });
});
