import { parseEnv } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatDotenv } from './dotenv.js';
import { envInteger } from './env-number.js';
import { envSchemaInfo } from './env-schema.js';
import { defineEnvTable, describeEnvTable, envObject } from './env-table.js';
import { envSecret } from './env-secret.js';
import { loadEnv } from './load-env.js';

describe('defineEnvTable', () => {
  const spec = { schema: envInteger({ default: 1 }), description: 'A number.', secret: false };

  it.each([
    ['a lower-case name', { port: spec }, /UPPER_SNAKE_CASE/],
    ['a name with a dash', { 'MY-VAR': spec }, /UPPER_SNAKE_CASE/],
    ['a schema that is not zod', { A: { ...spec, schema: {} as z.ZodType } }, /A.schema must be a zod schema/],
    ['an empty description', { A: { ...spec, description: '' } }, /A.description/],
    ['a generator on a non-secret', { A: { ...spec, generate: () => 'x' } }, /A.generate is only for secrets/],
    ['an example value for a secret', { A: { schema: envSecret(), description: 'S.', secret: true, example: 'changeme' } }, /must not have an example/],
  ])('refuses %s', (_label, table, message) => {
    expect(() => defineEnvTable(table as Parameters<typeof defineEnvTable>[0])).toThrow(message);
  });

  it('freezes the table and its rows', () => {
    const table = defineEnvTable({ A: { ...spec } });
    expect(Object.isFrozen(table)).toBe(true);
    expect(Object.isFrozen(table.A)).toBe(true);
  });
});

describe('envObject and describeEnvTable', () => {
  const table = defineEnvTable({
    PORT: { schema: envInteger({ min: 1, max: 65535, default: 3000 }), description: 'HTTP port.', secret: false },
    TOKEN: { schema: envSecret().optional(), description: 'API token.', secret: true, generate: () => 'generated' },
    NAME: { schema: z.string(), description: 'Service name.', secret: false, example: 'billing' },
  });

  it('builds the zod object of the table', () => {
    expect(loadEnv(envObject(table), { NAME: 'svc' })).toEqual({ ok: true, env: { PORT: 3000, NAME: 'svc' } });
  });

  it('uses the descriptions in the fixes of plain zod schemas', () => {
    const result = loadEnv(envObject(table), {});
    expect(!result.ok && result.issues[0]).toEqual({ variable: 'NAME', problem: 'is not set (required)', fix: 'Set NAME: Service name.' });
  });

  it('describes each variable with what it expects and its default', () => {
    expect(describeEnvTable(table).map(({ name, expects, defaultText, optional, secret }) => ({ name, expects, defaultText, optional, secret }))).toEqual([
      { name: 'PORT', expects: 'an integer between 1 and 65535', defaultText: '3000', optional: true, secret: false },
      { name: 'TOKEN', expects: 'a random secret of at least 32 bytes', defaultText: undefined, optional: true, secret: true },
      { name: 'NAME', expects: undefined, defaultText: undefined, optional: false, secret: false },
    ]);
  });

  it('sees through .optional() and not into foreign schemas', () => {
    expect(envSchemaInfo(envInteger().optional().optional())?.optional).toBe(true);
    expect(envSchemaInfo(z.string())).toBeUndefined();
  });
});

describe('formatDotenv', () => {
  it('writes comments above each variable', () => {
    expect(formatDotenv([{ name: 'A', value: 'x', comment: 'first line\nsecond line' }, { name: 'B', value: 'y' }])).toBe('# first line\n# second line\nA=x\n\nB=y\n');
  });

  it('wraps long comments at the given width', () => {
    const text = formatDotenv([{ name: 'A', value: 'x', comment: 'one two three four five six seven eight nine ten' }], { commentWidth: 24 });
    expect(text).toBe('# one two three four\n# five six seven eight\n# nine ten\nA=x\n');
  });

  it('round-trips arbitrary single-line values through util.parseEnv', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }).filter((value) => !/[\n\r"'`#\\]/.test(value) && value.trim() === value), (value) => {
        expect(parseEnv(formatDotenv([{ name: 'V', value }]))['V'] ?? '').toBe(value);
      }),
    );
  });

  it('quotes values with spaces or hashes', () => {
    const text = formatDotenv([{ name: 'A', value: 'a b # c' }, { name: 'B', value: 'say "hi"' }]);
    expect(parseEnv(text)).toEqual({ A: 'a b # c', B: 'say "hi"' });
  });

  it('refuses an invalid name', () => {
    expect(() => formatDotenv([{ name: '1A', value: 'x' }])).toThrow(TypeError);
  });
});
