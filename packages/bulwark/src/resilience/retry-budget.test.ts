import { describe, expect, it } from 'vitest';
import { manualClock } from '../../test/resilience/support.js';
import { createRetryBudget } from './retry-budget.js';

describe('retry budget', () => {
  it('allows minRetriesPerSecond × ttl retries with no traffic', () => {
    const clock = manualClock();
    const budget = createRetryBudget({ ratio: 0, minRetriesPerSecond: 1, ttlMs: 10_000, now: clock.now });
    expect(budget.available).toBe(10);
    let allowed = 0;
    while (budget.tryRetry()) allowed += 1;
    expect(allowed).toBe(10);
  });

  it('earns ratio retries per first attempt', () => {
    const clock = manualClock();
    const budget = createRetryBudget({ ratio: 0.2, minRetriesPerSecond: 0, now: clock.now });
    for (let index = 0; index < 100; index += 1) budget.recordRequest();
    let allowed = 0;
    while (budget.tryRetry()) allowed += 1;
    expect(allowed).toBe(20);
  });

  it('forgets requests and retries older than ttlMs', () => {
    const clock = manualClock();
    const budget = createRetryBudget({ ratio: 1, minRetriesPerSecond: 0, ttlMs: 1000, now: clock.now });
    for (let index = 0; index < 5; index += 1) budget.recordRequest();
    expect(budget.tryRetry()).toBe(true);
    clock.advance(1000);
    expect(budget.available).toBe(0);
    budget.recordRequest();
    expect(budget.available).toBe(1);
  });

  it('never has a negative balance', () => {
    const clock = manualClock();
    const budget = createRetryBudget({ ratio: 0, minRetriesPerSecond: 0, now: clock.now });
    expect(budget.tryRetry()).toBe(false);
    expect(budget.available).toBe(0);
  });

  it.each([
    [{ ratio: -0.1 }, /ratio must be a number from 0 to 10/],
    [{ minRetriesPerSecond: Number.POSITIVE_INFINITY }, /minRetriesPerSecond/],
    [{ ttlMs: 10 }, /ttlMs must be an integer from 1000 to 600000/],
  ])('rejects %j', (override, message) => {
    expect(() => createRetryBudget({ ratio: 0.1, minRetriesPerSecond: 1, ...override })).toThrow(message);
  });
});
