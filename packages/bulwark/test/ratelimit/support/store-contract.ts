/**
 * The contract every RateLimitStore honours, run against the memory store, the Redis store and
 * the resilient store by store-contract.test.ts. Time is a manual clock the store reads (the Redis
 * store with `clock: 'client'`), so windows can be crossed without waiting.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { RateLimitAlgorithm, RateLimitStore } from '../../../src/ratelimit/types.js';
import { limitOf } from './definitions.js';

export interface ContractSubject {
  readonly store: RateLimitStore;
  /** Moves the clock the store reads. */
  advance(ms: number): void;
  close(): Promise<void>;
}

const ALGORITHMS: readonly RateLimitAlgorithm[] = ['gcra', 'sliding-window', 'fixed-window'];

export function storeContract(label: string, open: () => Promise<ContractSubject>): void {
  describe(`RateLimitStore contract: ${label}`, () => {
    let subject: ContractSubject;
    let run = 0;
    const fresh = async (): Promise<ContractSubject> => {
      if (subject !== undefined) await subject.close();
      subject = await open();
      return subject;
    };
    beforeEach(async () => {
      run += 1;
      await fresh();
    });
    afterAll(async () => {
      await subject?.close();
    });
    const key = () => `key-${run}`;

    it.each(ALGORITHMS)('%s: allows exactly the limit, then rejects with a retry time that is honest', async (algorithm) => {
      const { store, advance } = subject;
      const limit = limitOf(algorithm, 4, 10_000, { prefix: `c-${algorithm}` });
      for (let index = 0; index < 4; index += 1) {
        const decision = await store.consume(limit, key(), 1);
        expect(decision).toMatchObject({ allowed: true, reason: 'ok', remaining: 3 - index, limit: 4, retryAfterMs: 0 });
      }
      const rejected = await store.consume(limit, key(), 1);
      expect(rejected).toMatchObject({ allowed: false, reason: 'limited', remaining: 0 });
      expect(rejected.retryAfterMs).toBeGreaterThan(0);
      expect(rejected.retryAfterMs).toBeLessThanOrEqual(20_000);
      expect(rejected.resetMs).toBeGreaterThanOrEqual(rejected.retryAfterMs);
      if (rejected.retryAfterMs > 1) {
        advance(rejected.retryAfterMs - 1);
        expect((await store.consume(limit, key(), 1)).allowed).toBe(false);
        advance(1);
      } else {
        advance(rejected.retryAfterMs);
      }
      expect((await store.consume(limit, key(), 1)).allowed).toBe(true);
    });

    it.each(ALGORITHMS)('%s: weighs requests by cost and peeks without counting', async (algorithm) => {
      const { store } = subject;
      const limit = limitOf(algorithm, 10, 60_000, { prefix: `w-${algorithm}` });
      expect(await store.consume(limit, key(), 0)).toMatchObject({ allowed: true, remaining: 10, resetMs: 0 });
      expect((await store.consume(limit, key(), 6)).remaining).toBe(4);
      expect((await store.consume(limit, key(), 5)).allowed).toBe(false);
      expect((await store.consume(limit, key(), 0)).remaining).toBe(4);
      expect((await store.consume(limit, key(), 4)).allowed).toBe(true);
      expect((await store.consume(limit, key(), 0)).remaining).toBe(0);
    });

    it('keeps keys and prefixes apart, and reset forgets one key', async () => {
      const { store } = subject;
      const one = limitOf('fixed-window', 1, 60_000, { prefix: 'sep-one' });
      const two = limitOf('fixed-window', 1, 60_000, { prefix: 'sep-two' });
      expect((await store.consume(one, key(), 1)).allowed).toBe(true);
      expect((await store.consume(one, key(), 1)).allowed).toBe(false);
      expect((await store.consume(one, `${key()}-other`, 1)).allowed).toBe(true);
      expect((await store.consume(two, key(), 1)).allowed).toBe(true);
      await store.reset(one, key());
      expect((await store.consume(one, key(), 1)).allowed).toBe(true);
      expect((await store.consume(two, key(), 1)).allowed).toBe(false);
    });

    it('decides several limits together: all or nothing, shadow limits never block', async () => {
      const { store } = subject;
      const burst = limitOf('gcra', 3, 1000, { prefix: 'multi-burst' });
      const hourly = limitOf('sliding-window', 4, 3_600_000, { prefix: 'multi-hour' });
      const daily = limitOf('fixed-window', 100, 86_400_000, { prefix: 'multi-day' });
      const shadow = limitOf('fixed-window', 1, 86_400_000, { prefix: 'multi-shadow', blocking: false });
      const all = (cost: number) => [burst, hourly, daily, shadow].map((limit) => ({ limit, key: key(), cost }));
      const first = await store.consumeAll(all(2));
      expect(first.map((d) => d.allowed)).toEqual([true, true, true, false]);
      expect(first.map((d) => d.remaining)).toEqual([1, 2, 98, 1]);
      const second = await store.consumeAll(all(2));
      expect(second.map((d) => d.allowed)).toEqual([false, true, true, false]);
      // Nothing was consumed by the rejected check.
      expect((await store.consume(hourly, key(), 0)).remaining).toBe(2);
      expect((await store.consume(daily, key(), 0)).remaining).toBe(98);
    });

    it('grants leases up to the limit, releases idempotently and expires them', async () => {
      const { store, advance } = subject;
      const limit = limitOf('concurrency', 3, 5000, { prefix: 'leases' });
      const first = await store.acquireLease(limit, key(), 2);
      expect(first.decision).toMatchObject({ allowed: true, remaining: 1, limit: 3 });
      const handle = first.handle;
      if (handle === undefined) throw new Error('the first lease must be granted');
      const second = await store.acquireLease(limit, key(), 2);
      expect(second.decision).toMatchObject({ allowed: false, remaining: 1, reason: 'limited' });
      expect(second.decision.retryAfterMs).toBeGreaterThan(0);
      expect(second.handle).toBeUndefined();
      await store.releaseLease(handle);
      await store.releaseLease(handle);
      expect((await store.acquireLease(limit, key(), 0)).decision.remaining).toBe(3);
      const held = await store.acquireLease(limit, key(), 3);
      expect(held.decision.allowed).toBe(true);
      expect((await store.acquireLease(limit, key(), 1)).decision.allowed).toBe(false);
      advance(5000);
      expect((await store.acquireLease(limit, key(), 3)).decision.allowed).toBe(true);
      await store.reset(limit, key());
      expect((await store.acquireLease(limit, key(), 0)).decision.remaining).toBe(3);
    });

    it('refuses a key prefix already claimed by a live limiter', () => {
      const { store } = subject;
      const release = store.claimPrefix(`claimed-${run}`, 'first');
      expect(() => store.claimPrefix(`claimed-${run}`, 'second')).toThrow(/already used by limiter "first"/);
      release();
      store.claimPrefix(`claimed-${run}`, 'second')();
    });
  });
}
