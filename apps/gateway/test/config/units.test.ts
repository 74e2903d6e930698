import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDurationMs, parseSize } from '../../src/config/units.js';

describe('sizes and durations', () => {
  it('reads the units of the examples', () => {
    expect(parseSize('50kb')).toBe(51_200);
    expect(parseSize('10mb')).toBe(10 * 1024 * 1024);
    expect(parseSize('1.5 KB')).toBe(1536);
    expect(parseSize(1024)).toBe(1024);
    expect(parseDurationMs('15m')).toBe(900_000);
    expect(parseDurationMs('1h')).toBe(3_600_000);
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs(60)).toBe(60_000);
  });

  it('refuses anything else instead of guessing', () => {
    for (const bad of ['', 'kb', '10', '-1kb', '1e3kb', '0kb', '0.1b', '10 tb', 'NaNmb']) expect(parseSize(bad)).toBeUndefined();
    for (const bad of ['', 'm', '15', '-1m', '0s', '1 week', '1e3s']) expect(parseDurationMs(bad)).toBeUndefined();
    expect(parseSize(0)).toBeUndefined();
    expect(parseSize(1.5)).toBeUndefined();
    expect(parseDurationMs(Number.POSITIVE_INFINITY)).toBeUndefined();
  });

  it('a size is always a positive safe integer or undefined, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double(), fc.integer()), (input) => {
        const bytes = parseSize(input);
        if (bytes !== undefined) expect(Number.isSafeInteger(bytes) && bytes > 0).toBe(true);
      }),
    );
  });

  it('kilobytes are 1024 bytes for every whole number', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (n) => {
        expect(parseSize(`${n}kb`)).toBe(n * 1024);
      }),
    );
  });
});
