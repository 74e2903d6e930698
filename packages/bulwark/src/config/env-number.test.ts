import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envDuration, envInteger, parseDurationMs } from './env-number.js';
import { loadEnv } from './load-env.js';
import type { EnvSchema } from './env-schema.js';

/** Loads one variable X through the schema. */
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
  expect(result.issues).toHaveLength(1);
  expect(result.issues[0]?.variable).toBe('X');
  return result.issues[0]?.problem ?? '';
}

describe('envInteger', () => {
  const port = envInteger({ min: 1, max: 65535, default: 8080 });

  it('parses decimal digits', () => {
    expect(value(port, '443')).toBe(443);
    expect(value(port, '65535')).toBe(65535);
    expect(value(envInteger({ min: -10, max: 10 }), '-7')).toBe(-7);
  });

  it('uses the default only when the variable is unset', () => {
    expect(value(port, undefined)).toBe(8080);
    expect(problem(port, '')).toBe('is set but empty');
  });

  it('is required without a default', () => {
    expect(problem(envInteger({ min: 1, max: 10 }), undefined)).toBe('is not set (required)');
  });

  it.each(['12abc', '1e3', '0x10', '1.0', '3.5', ' 5', '5 ', '+5', 'Infinity', 'NaN', '1_000', '٣', '--1', '99999999999999999999'])('refuses %j', (raw) => {
    expect(problem(port, raw)).toMatch(/^must be an integer between 1 and 65535/);
  });

  it.each(['0', '65536', '-1'])('refuses %s as out of range', (raw) => {
    expect(problem(port, raw)).toMatch(/between 1 and 65535/);
  });

  it('never produces NaN or a value out of range, whatever the input', () => {
    const schema = envInteger({ min: 1, max: 1000 });
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (raw) => {
        const result = load(schema, raw);
        if (result.ok) {
          expect(Number.isSafeInteger(result.env.X)).toBe(true);
          expect(result.env.X).toBeGreaterThanOrEqual(1);
          expect(result.env.X).toBeLessThanOrEqual(1000);
          expect(raw).toMatch(/^\d+$/);
        }
      }),
    );
  });

  it('round-trips every integer in range', () => {
    const schema = envInteger({ min: -1e9, max: 1e9 });
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), (n) => {
        expect(value(schema, String(n))).toBe(n);
      }),
    );
  });

  it.each([
    [{ min: 10, max: 1 }, /min \(10\) must not be greater than max/],
    [{ min: 1.5 }, /min must be a safe integer/],
    [{ max: Number.POSITIVE_INFINITY }, /max must be a safe integer/],
    [{ min: 1, max: 10, default: 11 }, /default must be an integer between 1 and 10/],
    [{ default: 1.5 }, /default must be an integer/],
  ])('refuses the options %j with a TypeError', (options, message) => {
    expect(() => envInteger(options)).toThrow(message);
  });
});

describe('envDuration', () => {
  const timeout = envDuration({ min: 100, max: 3_600_000, default: '30s' });

  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1500', 1500],
  ])('parses %s as %d ms', (raw, ms) => {
    expect(value(timeout, raw)).toBe(ms);
  });

  it('uses the default when unset', () => {
    expect(value(timeout, undefined)).toBe(30_000);
    expect(value(envDuration({ default: 250 }), undefined)).toBe(250);
  });

  it.each(['1.5s', '30 s', '30S', '-5s', '5d', 's', '', ' 30s', '1e3', '30sec', '0x10'])('refuses %j', (raw) => {
    expect(problem(timeout, raw)).toMatch(/must be a duration|is set but empty/);
  });

  it('refuses values out of range and names the range in units', () => {
    expect(problem(timeout, '50ms')).toBe('must be a duration between 100ms and 1h');
    expect(problem(timeout, '2h')).toBe('must be a duration between 100ms and 1h');
  });

  it('refuses amounts that overflow', () => {
    expect(parseDurationMs('999999999999999h')).toBeUndefined();
  });

  it('refuses bad options', () => {
    expect(() => envDuration({ default: 'soon' })).toThrow(/default must be milliseconds or a duration/);
    expect(() => envDuration({ min: 100, default: '50ms' })).toThrow(/default must be an integer between/);
    expect(() => envDuration({ min: -1 })).toThrow(/min must be at least 0/);
  });

  it('agrees with the unit table for every amount and unit', () => {
    const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
    fc.assert(
      fc.property(fc.nat({ max: 100_000 }), fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])), (amount, unit) => {
        expect(parseDurationMs(`${amount}${unit}`)).toBe(amount * units[unit]);
      }),
    );
  });
});
