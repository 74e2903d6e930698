import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/observability/metrics-registry.js';
import { createMemoryStore } from '../../src/ratelimit/memory-store.js';
import type { LeaseHandle } from '../../src/ratelimit/types.js';
import { limitOf, manualClock } from './support/definitions.js';

/**
 * Concurrency leases against a reference model: a plain list of (cost, expiry) leases. Whatever the
 * sequence of acquisitions, releases (including double and stale ones) and clock moves, the store
 * admits exactly when the model's live units plus the cost fit the limit, and reports the same
 * remaining units.
 */
describe('concurrency leases against a reference model', () => {
  it('admit exactly what fits, whatever the order of acquire, release and expiry', () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('acquire' as const), cost: fc.integer({ min: 0, max: 4 }) }),
      fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 3000 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5000 }), fc.array(operation, { maxLength: 80 }), (limit, ttl, operations) => {
        const clock = manualClock(0);
        const store = createMemoryStore({ now: clock.now, registry: createMetricsRegistry({ defaultMetrics: false }) });
        const definition = limitOf('concurrency', limit, ttl);
        const model: { handle: LeaseHandle; cost: number; expiresAt: number; released: boolean }[] = [];
        const liveUnits = (): number => model.filter((lease) => !lease.released && lease.expiresAt > clock.now()).reduce((sum, lease) => sum + lease.cost, 0);
        for (const step of operations) {
          if (step.kind === 'wait') {
            clock.advance(step.ms);
            continue;
          }
          if (step.kind === 'release') {
            const lease = model[step.pick % Math.max(1, model.length)];
            if (lease !== undefined) {
              void store.releaseLease(lease.handle);
              lease.released = true;
            }
            continue;
          }
          const cost = Math.min(step.cost, limit);
          const expected = liveUnits() + cost <= limit;
          const result = store.acquireLease(definition, 'k', cost);
          expect(result.decision.allowed).toBe(expected);
          if (result.handle !== undefined) model.push({ handle: result.handle, cost, expiresAt: clock.now() + ttl, released: false });
          expect(result.decision.remaining).toBe(Math.max(0, limit - liveUnits()));
          if (!expected) {
            // The wait it reports is until the oldest live lease runs out (a release may come sooner).
            const live = model.filter((lease) => !lease.released && lease.expiresAt > clock.now());
            expect(result.decision.retryAfterMs).toBe(Math.max(1, Math.min(...live.map((lease) => lease.expiresAt)) - clock.now()));
          }
        }
        store.destroy();
      }),
      { numRuns: 300 },
    );
  });
});
