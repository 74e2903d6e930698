import { describe, expect, it } from 'vitest';
import { appendVary } from './vary.js';

describe('appendVary', () => {
  it('adds missing names once, keeping what is there, case-insensitively', () => {
    expect(appendVary(undefined, ['Origin', 'Sec-Fetch-Site'])).toBe('Origin, Sec-Fetch-Site');
    expect(appendVary('Accept-Encoding', ['Origin'])).toBe('Accept-Encoding, Origin');
    expect(appendVary('origin, Accept-Encoding', ['Origin', 'Cookie'])).toBe('origin, Accept-Encoding, Cookie');
    expect(appendVary(['Accept', 'Cookie'], ['cookie', 'Origin', 'Origin'])).toBe('Accept, Cookie, Origin');
    expect(appendVary(' , ,', ['Origin'])).toBe('Origin');
  });

  it('lets * stand for everything', () => {
    expect(appendVary('*', ['Origin'])).toBe('*');
    expect(appendVary('Accept', ['*'])).toBe('*');
    expect(appendVary(7, ['Origin'])).toBe('Origin');
  });
});
