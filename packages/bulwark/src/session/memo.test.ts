import { describe, expect, it } from 'vitest';
import { memoize } from './memo.js';

describe('memoize', () => {
  it('derives each input once while it is cached, and forgets the oldest beyond the bound', () => {
    const calls: string[] = [];
    const derive = memoize((input: string) => {
      calls.push(input);
      return input.toUpperCase();
    }, 2);
    expect([derive('a'), derive('a'), derive('b'), derive('a')]).toEqual(['A', 'A', 'B', 'A']);
    expect(calls).toEqual(['a', 'b']);
    derive('c');
    derive('a');
    expect(calls).toEqual(['a', 'b', 'c', 'a']);
  });

  it('never caches inputs longer than the limit, so hostile inputs cannot grow it', () => {
    let calls = 0;
    const derive = memoize(() => (calls += 1), 10, 8);
    derive('x'.repeat(9));
    derive('x'.repeat(9));
    expect(calls).toBe(2);
  });
});
