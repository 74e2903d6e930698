import { describe, expect, it } from 'vitest';
import { timeRangeOf } from './chart-range.js';

describe('timeRangeOf', () => {
  const now = Date.parse('2026-03-01T12:00:00Z') / 1000;

  it('ends the span at the newest sample, with a little room after it', () => {
    expect(timeRangeOf(now - 60, 300, now)).toEqual([now - 360, now - 60 + 6]);
  });

  it('ends the span now while there are no samples (the axis shows the current clock, not 1970)', () => {
    for (const empty of [null, 0, Number.NaN]) expect(timeRangeOf(empty, 300, now)).toEqual([now - 300, now + 6]);
  });
});
