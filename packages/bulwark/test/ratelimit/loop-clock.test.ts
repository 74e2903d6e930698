import { afterEach, describe, expect, it, vi } from 'vitest';
import { loopNow, MAX_SHARED_READS } from '../../src/ratelimit/loop-clock.js';

/** Lets the current task finish: its nextTick callbacks run before setImmediate's. */
const nextTask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('loop clock', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('shares one reading among the decisions of one task, at most MAX_SHARED_READS times', async () => {
    await nextTask();
    const first = loopNow();
    const readings = [first];
    for (let index = 1; index < MAX_SHARED_READS; index += 1) readings.push(loopNow());
    expect(new Set(readings).size).toBe(1);
    // Past the bound it reads the clock again (the value may or may not have moved in between).
    const afterBound = loopNow();
    expect(afterBound).toBeGreaterThanOrEqual(first);
  });

  it('never carries a reading into the next task', async () => {
    await nextTask();
    const before = loopNow();
    // Busy-wait a little so the real clock moves, then let the task end.
    const until = Date.now() + 5;
    while (Date.now() < until) {
      /* wait for the real clock to move */
    }
    expect(loopNow()).toBe(before);
    await nextTask();
    expect(loopNow()).toBeGreaterThan(before);
  });

  it('reads mocked time on every call (fake timers see exactly what the test sets)', async () => {
    await nextTask();
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
    expect(loopNow()).toBe(1_000_000);
    vi.setSystemTime(2_000_000);
    expect(loopNow()).toBe(2_000_000);
    vi.advanceTimersByTime(5);
    expect(loopNow()).toBe(2_000_005);
  });
});
