import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/observability/metrics-registry.js';
import {
  checkRateLimit,
  consumeAll,
  createConcurrencyLimiter,
  createMemoryStore,
  createMultiLimiter,
  createRateLimiter,
  createTieredLimiters,
  RATE_LIMIT_TIERS,
  resetCheckRateLimit,
  setDefaultRateLimitStore,
} from '../../src/ratelimit/index.js';
import { manualClock } from './support/definitions.js';
import { FakeRemoteStore } from './support/fake-stores.js';

const quiet = () => createMetricsRegistry({ defaultMetrics: false });

describe('multi-limit decisions', () => {
  it('answers with the decisive limit and consumes nothing when one rejects', async () => {
    const store = createMemoryStore({ registry: quiet() });
    const perSecond = createRateLimiter({ name: 'm-second', limit: 5, windowMs: 1000, store, registry: quiet() });
    const perHour = createRateLimiter({ name: 'm-hour', algorithm: 'fixed-window', limit: 3, windowMs: 3_600_000, store, registry: quiet() });
    const both = createMultiLimiter([perSecond, perHour]);
    const first = await both.consume('k');
    expect(first).toMatchObject({ allowed: true, limiter: 'm-hour', remaining: 2 });
    expect(first.decisions.map((d) => [d.limiter, d.remaining])).toEqual([
      ['m-second', 4],
      ['m-hour', 2],
    ]);
    await both.consume('k');
    await both.consume('k');
    const rejected = await consumeAll([perSecond, perHour], 'k');
    expect(rejected).toMatchObject({ allowed: false, limiter: 'm-hour', reason: 'limited' });
    // The per-second limit allowed but was not charged: its decision shows the units it still has.
    expect(rejected.decisions[0]).toMatchObject({ limiter: 'm-second', allowed: true, remaining: 2 });
    expect((await perSecond.peek('k')).remaining).toBe(2);
    const peeked = await both.peek('k');
    expect(peeked.decisions.map((d) => d.remaining)).toEqual([2, 0]);
  });

  it('lets a shadow limit report without blocking', async () => {
    const store = createMemoryStore({ registry: quiet() });
    const real = createRateLimiter({ name: 's-real', limit: 10, windowMs: 1000, store, registry: quiet() });
    const trial = createRateLimiter({ name: 's-trial', algorithm: 'fixed-window', limit: 1, windowMs: 60_000, store, shadow: true, registry: quiet() });
    const both = createMultiLimiter([real, trial]);
    await both.consume('k');
    const second = await both.consume('k');
    expect(second.allowed).toBe(true);
    expect(second.decisions.map((d) => d.reason)).toEqual(['ok', 'shadow']);
    expect((await real.peek('k')).remaining).toBe(8);
  });

  it('answers from a block cache without asking the store', async () => {
    const store = new FakeRemoteStore();
    const tight = createRateLimiter({ name: 'b-tight', algorithm: 'fixed-window', limit: 1, windowMs: 60_000, store, registry: quiet() });
    const loose = createRateLimiter({ name: 'b-loose', limit: 100, windowMs: 60_000, store, registry: quiet() });
    const both = createMultiLimiter([loose, tight]);
    await both.consume('k');
    expect((await both.consume('k')).allowed).toBe(false);
    const calls = store.calls;
    const cached = await both.consume('k');
    expect(cached).toMatchObject({ allowed: false, limiter: 'b-tight', reason: 'limited' });
    expect(cached.decisions).toHaveLength(1);
    expect(store.calls).toBe(calls);
  });

  it('validates the set of limiters', () => {
    const one = createRateLimiter({ name: 'v-one', limit: 5, windowMs: 1000, store: createMemoryStore({ registry: quiet() }), registry: quiet() });
    const elsewhere = createRateLimiter({ name: 'v-two', limit: 5, windowMs: 1000, store: createMemoryStore({ registry: quiet() }), registry: quiet() });
    expect(() => createMultiLimiter([])).toThrow(/non-empty array/);
    expect(() => createMultiLimiter([one, one])).toThrow(/appears twice/);
    expect(() => createMultiLimiter([one, elsewhere])).toThrow(/must share a store/);
    expect(() => createMultiLimiter([{ ...one } as never])).toThrow(/createRateLimiter/);
  });
});

describe('concurrency limiter', () => {
  it('admits up to the limit, releases on completion, and a crashed holder\'s lease expires', async () => {
    const clock = manualClock(0);
    const registry = quiet();
    const uploads = createConcurrencyLimiter({ name: 'uploads', limit: 2, leaseTtlMs: 30_000, store: createMemoryStore({ now: clock.now, registry }), registry });
    const a = await uploads.acquire('tenant');
    const b = await uploads.acquire('tenant');
    const c = await uploads.acquire('tenant');
    expect([a.allowed, b.allowed, c.allowed]).toEqual([true, true, false]);
    expect(c.decision).toMatchObject({ reason: 'limited', remaining: 0, retryAfterMs: 30_000 });
    await c.release(); // a no-op for a refused lease
    await a.release();
    await a.release();
    expect((await uploads.peek('tenant')).remaining).toBe(1);
    // b never releases (its process died): after the TTL its slot is free again.
    await uploads.acquire('tenant');
    clock.advance(30_000);
    expect((await uploads.peek('tenant')).remaining).toBe(2);
    await uploads.reset('tenant');
    expect(await registry.metrics()).toContain('ratelimit_rejected_total{limiter="uploads",key_prefix="uploads"} 1');
  });

  it('validates its options and costs', async () => {
    const store = createMemoryStore({ registry: quiet() });
    expect(() => createConcurrencyLimiter({ name: 'x', limit: 0, store })).toThrow(/limit must be an integer between 1 and 1000000/);
    expect(() => createConcurrencyLimiter({ name: 'x', limit: 1, leaseTtlMs: 0, store })).toThrow(/leaseTtlMs/);
    expect(() => createConcurrencyLimiter({ name: 'x', limit: 1, store, onStoreFailure: 'local' })).toThrow(/needs a store with a local fallback/);
    const limiter = createConcurrencyLimiter({ name: 'y', limit: 2, store, registry: quiet() });
    expect(() => limiter.acquire('k', 3)).toThrow(/cost must be an integer between 0 and 2/);
    limiter.dispose();
    expect(() => limiter.acquire('k')).toThrow(/after dispose/);
  });

  it('admits everything in shadow mode while counting the refusals', async () => {
    const registry = quiet();
    const limiter = createConcurrencyLimiter({ name: 'shadow-leases', limit: 1, store: createMemoryStore({ registry }), shadow: true, registry });
    await limiter.acquire('k');
    const second = await limiter.acquire('k');
    expect(second).toMatchObject({ allowed: true, decision: { reason: 'shadow' } });
  });
});

describe('checkRateLimit and tiers', () => {
  it('limits with one call, per (limit, window), on the default store', async () => {
    resetCheckRateLimit();
    setDefaultRateLimitStore(createMemoryStore({ registry: quiet() }));
    expect((await checkRateLimit('login:alice', 2, 60)).allowed).toBe(true);
    expect((await checkRateLimit('login:alice', 2, 60)).allowed).toBe(true);
    expect(await checkRateLimit('login:alice', 2, 60, { failClosed: false })).toMatchObject({ allowed: false, reason: 'limited' });
    // Another limit is another counter.
    expect((await checkRateLimit('login:alice', 5, 60)).allowed).toBe(true);
    expect(() => checkRateLimit('k', 1, 0)).toThrow(/windowSeconds must be an integer between 1 and 86400/);
    resetCheckRateLimit();
  });

  // Regression: the key prefix held a per-process store number given out in order of first use, so
  // instances sharing a Redis that used their stores in a different order counted apart.
  it('counts under the same key prefix whatever order the stores were first used in (another instance)', async () => {
    resetCheckRateLimit();
    const shared = createMemoryStore({ registry: quiet() });
    await checkRateLimit('k', 3, 60, { store: createMemoryStore({ registry: quiet() }) });
    expect((await checkRateLimit('k', 3, 60, { store: shared })).allowed).toBe(true);
    expect((await checkRateLimit('k', 3, 60, { store: shared })).allowed).toBe(true);
    // As another instance would, starting with the shared store.
    resetCheckRateLimit();
    expect((await checkRateLimit('k', 3, 60, { store: shared })).allowed).toBe(true);
    expect((await checkRateLimit('k', 3, 60, { store: shared })).allowed).toBe(false);
    resetCheckRateLimit();
  });

  it('fails closed when asked, and open otherwise, on a store that is down', async () => {
    resetCheckRateLimit();
    const store = new FakeRemoteStore();
    store.failingNodes.add('*');
    expect(await checkRateLimit('k', 5, 60, { store, failClosed: true })).toMatchObject({ allowed: false, reason: 'store_unavailable' });
    expect(await checkRateLimit('k', 5, 60, { store })).toMatchObject({ allowed: true, reason: 'store_unavailable' });
    resetCheckRateLimit();
  });

  it('creates the standard tiers', async () => {
    const tiers = createTieredLimiters({ store: createMemoryStore({ registry: quiet() }), defaults: { registry: quiet() } });
    expect(Object.keys(tiers)).toEqual(['general', 'chat', 'webhooks', 'analytics']);
    expect(tiers.chat.policy).toEqual({ name: 'tier.chat', limit: 10, windowSeconds: 60 });
    expect(tiers.general.definition).toMatchObject({ limit: RATE_LIMIT_TIERS.general.limit, windowMs: 900_000, algorithm: 'sliding-window' });
    for (let index = 0; index < 10; index += 1) await tiers.chat.consume('ip:1');
    expect((await tiers.chat.consume('ip:1')).allowed).toBe(false);
    expect((await tiers.analytics.consume('ip:1')).allowed).toBe(true);
  });
});
