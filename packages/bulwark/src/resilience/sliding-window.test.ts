import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountWindow, TIME_WINDOW_BUCKETS, TimeWindow } from './sliding-window.js';

type Call = { failed: boolean; slow: boolean };

describe('CountWindow', () => {
  it('keeps the totals of exactly the last `size` calls (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.record({ failed: fc.boolean(), slow: fc.boolean() }), { maxLength: 100 }), (size, history: Call[]) => {
        const window = new CountWindow(size);
        for (const call of history) window.record(0, call.failed, call.slow);
        const last = history.slice(-size);
        expect(window.calls).toBe(last.length);
        expect(window.failures).toBe(last.filter((call) => call.failed).length);
        expect(window.slowCalls).toBe(last.filter((call) => call.slow).length);
      }),
    );
  });

  it('clear forgets everything', () => {
    const window = new CountWindow(3);
    window.record(0, true, true);
    window.clear();
    window.record(0, false, false);
    expect([window.calls, window.failures, window.slowCalls]).toEqual([1, 0, 0]);
  });
});

describe('TimeWindow', () => {
  it('counts the calls of the buckets that cover the last duration (property against a naive model)', () => {
    const durationMs = 1000;
    const bucketMs = durationMs / TIME_WINDOW_BUCKETS;
    fc.assert(
      fc.property(fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 400 }), failed: fc.boolean(), slow: fc.boolean() }), { maxLength: 80 }), fc.integer({ min: 0, max: 2000 }), (steps, finalGap) => {
        const window = new TimeWindow(durationMs);
        const start = 5000;
        let now = start;
        const events: (Call & { at: number })[] = [];
        for (const step of steps) {
          now += step.gapMs;
          window.record(now, step.failed, step.slow);
          events.push({ at: now, failed: step.failed, slow: step.slow });
        }
        now += finalGap;
        window.advance(now);
        // The model: an event counts while its bucket is among the last TIME_WINDOW_BUCKETS buckets.
        const origin = events[0]?.at ?? now;
        const bucketOf = (time: number) => Math.floor((time - origin) / bucketMs);
        const current = bucketOf(now);
        const live = events.filter((event) => bucketOf(event.at) > current - TIME_WINDOW_BUCKETS);
        expect(window.calls).toBe(live.length);
        expect(window.failures).toBe(live.filter((event) => event.failed).length);
        expect(window.slowCalls).toBe(live.filter((event) => event.slow).length);
      }),
    );
  });

  it('forgets everything after a full idle window', () => {
    const window = new TimeWindow(10_000);
    for (let index = 0; index < 5; index += 1) window.record(index * 100, true, false);
    window.advance(20_000);
    expect(window.calls).toBe(0);
    window.record(20_001, false, false);
    expect([window.calls, window.failures]).toEqual([1, 0]);
  });

  it('leaves its counts alone when the clock steps backwards', () => {
    const window = new TimeWindow(10_000);
    window.record(50_000, true, false);
    window.record(40_000, true, false);
    expect(window.failures).toBe(2);
  });
});
