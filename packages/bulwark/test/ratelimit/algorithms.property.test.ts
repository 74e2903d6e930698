import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { freshState, type CounterAlgorithm, type StateRecords } from '../../src/ratelimit/algorithm.js';
import { fixedWindow } from '../../src/ratelimit/fixed-window.js';
import { gcra } from '../../src/ratelimit/gcra.js';
import { buildDefinition } from '../../src/ratelimit/limit-definition.js';
import { slidingWindow } from '../../src/ratelimit/sliding-window.js';
import type { LimitDefinition, RateLimitAlgorithm } from '../../src/ratelimit/types.js';
import { firstTimeWhere, fixedWindowModel, slidingWindowModel, tokenBucket, type ReferenceModel } from './support/reference-models.js';

const ALGORITHMS: Record<RateLimitAlgorithm, { implementation: CounterAlgorithm; model: (limit: LimitDefinition) => ReferenceModel }> = {
  gcra: { implementation: gcra, model: tokenBucket },
  'sliding-window': { implementation: slidingWindow, model: slidingWindowModel },
  'fixed-window': { implementation: fixedWindow, model: fixedWindowModel },
};

function define(algorithm: RateLimitAlgorithm, limit: number, windowMs: number, burst: number): LimitDefinition {
  return buildDefinition({ name: 'prop', prefix: 'prop', algorithm, limit, windowMs, burst: algorithm === 'gcra' ? burst : limit, onStoreFailure: 'closed', blocking: true, expectedInstances: 1 });
}

/** A limit and a history of requests: gaps in ms (often 0, sometimes spanning windows) and costs. */
const scenario = (algorithm: RateLimitAlgorithm) =>
  fc
    .record({ limit: fc.integer({ min: 1, max: 12 }), windowMs: fc.integer({ min: 1, max: 3000 }), extraBurst: fc.integer({ min: -3, max: 6 }), start: fc.integer({ min: 0, max: 2 ** 41 }) })
    .chain(({ limit, windowMs, extraBurst, start }) => {
      const burst = Math.max(1, limit + extraBurst);
      const capacity = algorithm === 'gcra' ? burst : limit;
      const gap = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: Math.max(1, Math.ceil(windowMs / 4)) }), fc.integer({ min: 0, max: windowMs * 3 }));
      return fc.record({
        limit: fc.constant(limit),
        windowMs: fc.constant(windowMs),
        burst: fc.constant(burst),
        start: fc.constant(1_600_000_000_000 + start),
        steps: fc.array(fc.record({ gap, cost: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: capacity })) }), { minLength: 1, maxLength: 60 }),
      });
    });

describe.each(Object.keys(ALGORITHMS) as RateLimitAlgorithm[])('%s against its reference model', (algorithm) => {
  const { implementation, model } = ALGORITHMS[algorithm];

  it('agrees on every decision, remaining unit, retry time and reset time', () => {
    fc.assert(
      fc.property(scenario(algorithm), ({ limit, windowMs, burst, start, steps }) => {
        const definition = define(algorithm, limit, windowMs, burst);
        const reference = model(definition);
        const state: StateRecords = freshState();
        const capacity = algorithm === 'gcra' ? definition.burst : definition.limit;
        // Long enough for a GCRA bucket larger than the limit to refill completely.
        const horizon = windowMs * 4 * Math.ceil(capacity / limit + 1) + 10;
        let now = start;
        for (const { gap, cost } of steps) {
          now += gap;
          const expectedAllowed = reference.allows(now, cost);
          const decision = implementation.evaluate(state, 0, definition, now, cost, true);
          expect(decision.allowed).toBe(expectedAllowed);
          expect(decision.limit).toBe(capacity);
          if (decision.allowed) {
            reference.record(now, cost);
            expect(decision.retryAfterMs).toBe(0);
          } else {
            const firstAllowed = firstTimeWhere((at) => reference.allows(at, cost), now, horizon);
            expect(firstAllowed).toBeDefined();
            expect(decision.retryAfterMs).toBe((firstAllowed ?? 0) - now);
          }
          expect(decision.remaining).toBe(reference.remaining(now));
          const full = firstTimeWhere((at) => reference.remaining(at) === capacity, now, horizon);
          expect(decision.resetMs).toBe((full ?? Number.NaN) - now);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('changes nothing when asked not to commit, and nothing for cost 0', () => {
    fc.assert(
      fc.property(scenario(algorithm), ({ limit, windowMs, burst, start, steps }) => {
        const definition = define(algorithm, limit, windowMs, burst);
        const state: StateRecords = freshState();
        let now = start;
        for (const { gap, cost } of steps) {
          now += gap;
          const snapshot = () => [...state];
          const before = snapshot();
          const dry = implementation.evaluate(state, 0, definition, now, cost, false);
          expect(snapshot()).toEqual(before);
          expect(implementation.evaluate(state, 0, definition, now, 0, true).allowed).toBe(true);
          expect(snapshot()).toEqual(before);
          const real = implementation.evaluate(state, 0, definition, now, cost, true);
          expect(real).toEqual(dry);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('limits hold whatever the history', () => {
  it('fixed window: never more than the limit in one aligned window', () => {
    fc.assert(
      fc.property(scenario('fixed-window'), ({ limit, windowMs, start, steps }) => {
        const definition = define('fixed-window', limit, windowMs, limit);
        const state: StateRecords = freshState();
        const spent = new Map<number, number>();
        let now = start;
        for (const { gap, cost } of steps) {
          now += gap;
          if (fixedWindow.evaluate(state, 0, definition, now, cost, true).allowed) {
            const window = Math.floor(now / windowMs);
            spent.set(window, (spent.get(window) ?? 0) + cost);
          }
        }
        for (const units of spent.values()) expect(units).toBeLessThanOrEqual(limit);
      }),
    );
  });

  it('GCRA: any interval of L ms admits at most burst + L / emission interval units', () => {
    fc.assert(
      fc.property(scenario('gcra'), ({ limit, windowMs, burst, start, steps }) => {
        const definition = define('gcra', limit, windowMs, burst);
        const state: StateRecords = freshState();
        const admitted: { at: number; cost: number }[] = [];
        let now = start;
        for (const { gap, cost } of steps) {
          now += gap;
          if (gcra.evaluate(state, 0, definition, now, cost, true).allowed && cost > 0) admitted.push({ at: now, cost });
        }
        for (let from = 0; from < admitted.length; from += 1) {
          let units = 0;
          for (let to = from; to < admitted.length; to += 1) {
            const last = admitted[to]!;
            units += last.cost;
            const spanUs = (last.at - admitted[from]!.at) * 1000;
            expect(units).toBeLessThanOrEqual(definition.burst + Math.floor(spanUs / definition.emissionUs));
          }
        }
      }),
    );
  });

  it('GCRA with burst = limit: never more than the limit plus one window of refill in any window', () => {
    const definition = define('gcra', 10, 1000, 10);
    const state: StateRecords = freshState();
    const admitted: number[] = [];
    for (let at = 0; at < 10_000; at += 7) if (gcra.evaluate(state, 0, definition, 1_700_000_000_000 + at, 1, true).allowed) admitted.push(at);
    for (let index = 0; index < admitted.length; index += 1) {
      const inWindow = admitted.filter((at) => at >= admitted[index]! && at < admitted[index]! + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(20);
    }
    // Sustained, it settles at the configured rate: 10 per second over 10 s plus the initial burst.
    expect(admitted.length).toBeLessThanOrEqual(10 + 100);
    expect(admitted.length).toBeGreaterThanOrEqual(100);
  });

  it('rounds the GCRA emission interval up, so the rate is never above the configured one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 86_400_000 }), (limit, windowMs) => {
        fc.pre(limit <= windowMs * 1000);
        const definition = define('gcra', limit, windowMs, limit);
        expect(definition.emissionUs * limit).toBeGreaterThanOrEqual(windowMs * 1000);
        expect((definition.emissionUs - 1) * limit).toBeLessThan(windowMs * 1000);
      }),
    );
  });
});
