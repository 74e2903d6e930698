import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BREAKER_ENV, breakerDefaultsFromEnv } from './env.js';

describe('breakerDefaultsFromEnv', () => {
  it('returns the built-in defaults when nothing is set', () => {
    expect(breakerDefaultsFromEnv({})).toEqual({ failureThreshold: 5, resetTimeoutMs: 30_000, halfOpenRequests: 3 });
  });

  it('reads valid integers, including the range ends', () => {
    expect(breakerDefaultsFromEnv({ BULWARK_BREAKER_FAILURE_THRESHOLD: '1', BULWARK_BREAKER_RESET_TIMEOUT_MS: '3600000', BULWARK_BREAKER_HALF_OPEN_REQUESTS: '100' })).toEqual({
      failureThreshold: 1,
      resetTimeoutMs: 3_600_000,
      halfOpenRequests: 100,
    });
  });

  it.each(['12abc', '1.5', '1e3', '', ' 5', '5 ', '+5', '-5', '0x10', 'NaN', 'Infinity', '١٢', '99999999999999999999'])('rejects %j with a TypeError naming the variable and the range', (raw) => {
    expect(() => breakerDefaultsFromEnv({ BULWARK_BREAKER_FAILURE_THRESHOLD: raw })).toThrow(TypeError);
    expect(() => breakerDefaultsFromEnv({ BULWARK_BREAKER_FAILURE_THRESHOLD: raw })).toThrow(/^BULWARK_BREAKER_FAILURE_THRESHOLD must be an integer from 1 to 1000 \(got /);
  });

  it.each([
    ['BULWARK_BREAKER_FAILURE_THRESHOLD', '0', /from 1 to 1000/],
    ['BULWARK_BREAKER_FAILURE_THRESHOLD', '1001', /from 1 to 1000/],
    ['BULWARK_BREAKER_RESET_TIMEOUT_MS', '99', /from 100 to 3600000/],
    ['BULWARK_BREAKER_RESET_TIMEOUT_MS', '3600001', /from 100 to 3600000/],
    ['BULWARK_BREAKER_HALF_OPEN_REQUESTS', '0', /from 1 to 100/],
    ['BULWARK_BREAKER_HALF_OPEN_REQUESTS', '101', /from 1 to 100/],
  ])('rejects out-of-range %s=%s', (variable, raw, range) => {
    expect(() => breakerDefaultsFromEnv({ [variable]: raw })).toThrow(new RegExp(`${variable}.*${range.source}`));
  });

  it('never echoes more than a short prefix of a hostile value', () => {
    const long = 'x'.repeat(10_000);
    let message = '';
    try {
      breakerDefaultsFromEnv({ BULWARK_BREAKER_HALF_OPEN_REQUESTS: long });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.length).toBeLessThan(150);
  });

  it('accepts exactly the decimal integers in range (property)', () => {
    const spec = BREAKER_ENV.failureThreshold;
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: -10, max: 2000 }).map(String), fc.stringMatching(/^[0-9 .e+-]{1,6}$/)), (raw) => {
        const valid = /^[0-9]+$/.test(raw) && Number(raw) >= spec.min && Number(raw) <= spec.max;
        let parsed: number | undefined;
        try {
          parsed = breakerDefaultsFromEnv({ [spec.variable]: raw }).failureThreshold;
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError);
        }
        expect(parsed !== undefined).toBe(valid);
        if (parsed !== undefined) expect(parsed).toBe(Number(raw));
      }),
    );
  });
});
