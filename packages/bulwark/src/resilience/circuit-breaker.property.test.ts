import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { freshRegistry, manualClock } from '../../test/resilience/support.js';
import { createCircuitBreaker } from './circuit-breaker.js';
import type { CallOutcome, CircuitState, TransitionEvent } from './types.js';

type Step = { kind: 'acquire' } | { kind: 'release'; pick: number; outcome: CallOutcome } | { kind: 'advance'; ms: number } | { kind: 'read' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Step>({ kind: 'acquire' }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat(), outcome: fc.constantFrom<CallOutcome>('success', 'failure', 'ignored') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 1500 }) }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'read' }) },
);

const ALLOWED = new Set(['closed>open', 'open>half-open', 'half-open>closed', 'half-open>open']);

describe('circuit breaker invariants (property)', () => {
  it('moves only along the allowed edges, never lets more than halfOpenRequests probes into one half-open episode, and refuses everything while open', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.array(step, { maxLength: 200 }), (threshold, halfOpenRequests, steps) => {
        const clock = manualClock();
        const breaker = createCircuitBreaker({ name: 'p', registry: freshRegistry(), now: clock.now, failureThreshold: threshold, resetTimeoutMs: 1000, halfOpenRequests, probeTimeoutMs: 5000 });
        const transitions: TransitionEvent[] = [];
        breaker.on('transition', (event) => transitions.push(event));
        const outstanding: { permit: number; probeOf: number }[] = [];
        let probesThisEpisode = 0;
        let episode = -1;
        for (const next of steps) {
          if (next.kind === 'advance') clock.advance(next.ms);
          else if (next.kind === 'read') void breaker.state;
          else if (next.kind === 'release') {
            if (outstanding.length === 0) continue;
            const [taken] = outstanding.splice(next.pick % outstanding.length, 1);
            if (taken === undefined) continue;
            breaker.release(taken.permit, next.outcome, 1);
            // An ignored probe of the current episode hands its permit back.
            if (next.outcome === 'ignored' && taken.probeOf === episode && breaker.snapshot().generation === episode) probesThisEpisode -= 1;
          } else {
            const before: CircuitState = breaker.state;
            const generation = breaker.snapshot().generation;
            const permit = breaker.tryAcquire();
            if (before === 'open') expect(permit).toBe(0);
            if (permit > 0) {
              const probe = before === 'half-open';
              if (probe) {
                if (episode !== generation) {
                  episode = generation;
                  probesThisEpisode = 0;
                }
                probesThisEpisode += 1;
                expect(probesThisEpisode).toBeLessThanOrEqual(halfOpenRequests);
              }
              outstanding.push({ permit, probeOf: probe ? generation : -1 });
            }
          }
        }
        for (const event of transitions) expect(ALLOWED.has(`${event.from}>${event.to}`)).toBe(true);
        // Consecutive transitions chain: each starts where the previous ended.
        for (let index = 1; index < transitions.length; index += 1) expect(transitions[index]?.from).toBe(transitions[index - 1]?.to);
      }),
      { numRuns: 300 },
    );
  });
});
