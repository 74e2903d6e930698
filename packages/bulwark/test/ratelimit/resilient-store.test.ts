import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/observability/metrics-registry.js';
import { createConcurrencyLimiter, createMemoryStore, createMultiLimiter, createRateLimiter, createResilientStore } from '../../src/ratelimit/index.js';
import type { StoreFailurePolicy } from '../../src/ratelimit/types.js';
import { manualClock, recordingLogger } from './support/definitions.js';
import { FakeRemoteStore } from './support/fake-stores.js';

/** A resilient store over a fake Redis, every clock manual: breaker reset 1 s, hysteresis 5 s. */
function setup(options: { minFallbackMs?: number; breakerResetTimeoutMs?: number } = {}) {
  const clock = manualClock(1_000_000);
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const { logger, lines } = recordingLogger();
  const redis = new FakeRemoteStore('fake-redis', clock.now);
  const local = createMemoryStore({ name: 'fallback', now: clock.now, registry });
  const store = createResilientStore({ redis, local, minFallbackMs: options.minFallbackMs ?? 5000, breaker: { failureThreshold: 3, resetTimeoutMs: options.breakerResetTimeoutMs ?? 1000, halfOpenRequests: 1 }, now: clock.now, logger, registry });
  const limiter = (name: string, onStoreFailure: StoreFailurePolicy, extra: { limit?: number; expectedInstances?: number } = {}) =>
    createRateLimiter({ name, algorithm: 'fixed-window', limit: extra.limit ?? 10, windowMs: 3_600_000, store, onStoreFailure, expectedInstances: extra.expectedInstances ?? 1, blockCache: false, now: clock.now, registry });
  return { clock, registry, redis, local, store, limiter, lines };
}

describe('resilient store failure modes', () => {
  it('local: enforces the limit divided by the expected instances on the fallback store', async () => {
    const { redis, limiter } = setup();
    const api = limiter('api', 'local', { limit: 10, expectedInstances: 2 });
    redis.failingNodes.add('*');
    const decisions = await Promise.all(Array.from({ length: 8 }, () => api.consume('k')));
    expect(decisions.every((d) => d.reason === 'fallback')).toBe(true);
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
    expect(decisions.at(-1)).toMatchObject({ allowed: false, limit: 5, remaining: 0 });
  });

  it('closed: rejects, first as store_unavailable, then circuit_open once the breaker opened, with a retry time', async () => {
    const { redis, limiter } = setup();
    const strict = limiter('strict', 'closed');
    redis.failingNodes.add('*');
    const failures = [];
    for (let index = 0; index < 3; index += 1) failures.push(await strict.consume('k'));
    expect(failures.map((d) => d.reason)).toEqual(['store_unavailable', 'store_unavailable', 'store_unavailable']);
    const calls = redis.calls;
    const open = await strict.consume('k');
    expect(open).toMatchObject({ allowed: false, reason: 'circuit_open', remaining: 0 });
    expect(open.retryAfterMs).toBeGreaterThanOrEqual(5000);
    expect(redis.calls).toBe(calls);
  });

  it('closed: during the hysteresis, tells the caller the longer of its rest and the breaker\'s, and at least 1 s', async () => {
    const { redis, limiter, clock } = setup({ minFallbackMs: 5000 });
    const strict = limiter('strict', 'closed');
    redis.failingNodes.add('*');
    for (let index = 0; index < 3; index += 1) await strict.consume('k');
    clock.advance(4900); // 100 ms of hysteresis left; the breaker (1 s) is past its reset timeout
    expect(await strict.consume('k')).toMatchObject({ allowed: false, reason: 'circuit_open', retryAfterMs: 1000 });

    const slow = setup({ minFallbackMs: 2000, breakerResetTimeoutMs: 30_000 });
    const login = slow.limiter('login', 'closed');
    slow.redis.failingNodes.add('*');
    for (let index = 0; index < 3; index += 1) await login.consume('k');
    slow.clock.advance(1000); // 1 s of hysteresis left, but the breaker stays open 29 s more
    expect(await login.consume('k')).toMatchObject({ allowed: false, reason: 'circuit_open', retryAfterMs: 29_000 });
  });

  it('open: allows, counted under its own result label', async () => {
    const { redis, limiter, registry } = setup();
    const lenient = limiter('lenient', 'open');
    redis.failingNodes.add('*');
    for (let index = 0; index < 5; index += 1) expect(await lenient.consume('k')).toMatchObject({ allowed: true });
    const text = await registry.metrics();
    expect(text).toContain('ratelimit_decisions_total{limiter="lenient",result="store_unavailable_allowed"} 3');
    expect(text).toContain('ratelimit_decisions_total{limiter="lenient",result="circuit_open_allowed"} 2');
  });
});

describe('resilient store hysteresis', () => {
  it('stays on the fallback for minFallbackMs, then returns through a half-open probe', async () => {
    const { redis, limiter, clock, store, lines, registry } = setup({ minFallbackMs: 5000 });
    const api = limiter('api', 'local');
    redis.failingNodes.add('*');
    for (let index = 0; index < 3; index += 1) await api.consume('k');
    expect((await api.consume('k')).reason).toBe('fallback');
    expect(store.stats().nodes).toEqual([{ node: 'node-a', route: 'fallback', breaker: 'open', fallbackForMs: 0 }]);
    redis.failingNodes.clear();
    clock.advance(2000); // the breaker would probe now, but the hysteresis holds
    const calls = redis.calls;
    expect((await api.consume('k')).reason).toBe('fallback');
    expect(redis.calls).toBe(calls);
    clock.advance(3000);
    expect((await api.consume('k')).reason).toBe('ok'); // the probe, answered by Redis
    expect(redis.calls).toBe(calls + 1);
    expect((await api.consume('k')).reason).toBe('ok');
    expect(store.stats().nodes[0]).toMatchObject({ route: 'redis', breaker: 'closed' });
    expect(lines.filter((line) => line.message.includes('is unavailable'))).toHaveLength(1);
    expect(lines.filter((line) => line.message.includes('is back'))).toHaveLength(1);
    const text = await registry.metrics();
    expect(text).toContain('ratelimit_fallback_transitions_total{store="resilient",node="node-a",to="fallback"} 1');
    expect(text).toContain('ratelimit_fallback_transitions_total{store="resilient",node="node-a",to="redis"} 1');
  });

  /** 20 s of traffic every 10 ms while Redis fails for 40 ms every 400 ms; returns the stretches of fallback. */
  async function flap(minFallbackMs: number): Promise<{ switches: number; fallbackStretchesMs: number[] }> {
    const { redis, limiter, clock } = setup({ minFallbackMs });
    const api = limiter('api', 'local', { limit: 1_000_000 });
    let switches = 0;
    let previous = 'ok';
    let stretchStart = 0;
    const fallbackStretchesMs: number[] = [];
    for (let step = 0; step < 2000; step += 1) {
      if (step % 40 < 4) redis.failingNodes.add('*');
      else redis.failingNodes.clear();
      const onRedis = (await api.consume('k')).reason === 'ok' ? 'ok' : 'fallback';
      if (onRedis !== previous) {
        switches += 1;
        if (onRedis === 'fallback') stretchStart = step * 10;
        else fallbackStretchesMs.push(step * 10 - stretchStart);
        previous = onRedis;
      }
      clock.advance(10);
    }
    return { switches, fallbackStretchesMs };
  }

  it('a flapping Redis cannot make decisions thrash: each fallback lasts at least minFallbackMs', async () => {
    const withHysteresis = await flap(5000);
    expect(withHysteresis.fallbackStretchesMs.length).toBeGreaterThan(0);
    for (const stretch of withHysteresis.fallbackStretchesMs) expect(stretch).toBeGreaterThanOrEqual(5000);
    expect(withHysteresis.switches).toBeLessThanOrEqual(8);
    // The same traffic without hysteresis switches stores several times as often.
    const without = await flap(0);
    expect(without.switches).toBeGreaterThan(withHysteresis.switches * 2);
  });

  it('counts each request once, and does not copy local counts back to Redis', async () => {
    const { redis, limiter, clock } = setup({ minFallbackMs: 5000 });
    const api = limiter('api', 'local', { limit: 10 });
    await api.consume('k'); // Redis: 1 used
    redis.failingNodes.add('*');
    for (let index = 0; index < 3; index += 1) await api.consume('k'); // three failed calls: counted locally only
    const redisCalls = redis.calls;
    for (let index = 0; index < 4; index += 1) expect((await api.consume('k')).reason).toBe('fallback');
    expect(redis.calls).toBe(redisCalls);
    const localState = await api.peek('k');
    expect(localState).toMatchObject({ reason: 'fallback', remaining: 3 });
    redis.failingNodes.clear();
    clock.advance(5000);
    const back = await api.consume('k');
    expect(back).toMatchObject({ reason: 'ok', remaining: 8 }); // Redis resumes from its own count of 1
  });

  it('degrades only the keys of the failed node', async () => {
    const { redis, limiter } = setup();
    const api = limiter('api', 'closed');
    redis.failingNodes.add('node-a');
    for (let index = 0; index < 5; index += 1) {
      expect((await api.consume('node-a/tenant-1')).allowed).toBe(false);
      expect(await api.consume('node-b/tenant-2')).toMatchObject({ allowed: true, reason: 'ok' });
    }
  });
});

describe('resilient store multi-limit and leases', () => {
  it('with a fail-closed limit down, rejects the check and consumes nothing locally', async () => {
    const { redis, limiter, local } = setup();
    const perMinute = limiter('per-minute', 'local', { limit: 5 });
    const perHour = limiter('per-hour', 'closed', { limit: 100 });
    const both = createMultiLimiter([perMinute, perHour]);
    redis.failingNodes.add('*');
    const result = await both.consume('k');
    expect(result.allowed).toBe(false);
    expect(result.decisions.map((d) => [d.limiter, d.reason, d.allowed])).toEqual([
      ['per-minute', 'fallback', true],
      ['per-hour', 'store_unavailable', false],
    ]);
    expect(local.size).toBe(0);
  });

  it('with only local limits down, enforces them together on the fallback', async () => {
    const { redis, limiter } = setup();
    const small = limiter('small', 'local', { limit: 2 });
    const large = limiter('large', 'local', { limit: 100 });
    const both = createMultiLimiter([small, large]);
    redis.failingNodes.add('*');
    const results = [];
    for (let index = 0; index < 3; index += 1) results.push(await both.consume('k'));
    expect(results.map((r) => r.allowed)).toEqual([true, true, false]);
    expect(results[2]).toMatchObject({ limiter: 'small', reason: 'fallback' });
    expect((await large.peek('k')).remaining).toBe(98);
  });

  it('grants fallback leases and releases them where they were taken', async () => {
    const clock = manualClock(0);
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const redis = new FakeRemoteStore('fake-redis', clock.now);
    const store = createResilientStore({ redis, local: createMemoryStore({ now: clock.now, registry }), now: clock.now, registry });
    const uploads = createConcurrencyLimiter({ name: 'uploads', limit: 1, store, registry });
    const held = await uploads.acquire('k');
    expect(held.decision.reason).toBe('ok');
    redis.failingNodes.add('*');
    const local = await uploads.acquire('k');
    expect(local).toMatchObject({ allowed: true, decision: { reason: 'fallback' } });
    expect((await uploads.acquire('k')).allowed).toBe(false);
    await local.release();
    expect((await uploads.acquire('k')).allowed).toBe(true);
    await held.release(); // Redis down: no error, the lease expires with its TTL
  });

  it('validates its options', () => {
    const redis = new FakeRemoteStore();
    expect(() => createResilientStore({ redis: {} as FakeRemoteStore })).toThrow(/redis must be a store created by createRedisStore/);
    expect(() => createResilientStore({ redis, minFallbackMs: -1 })).toThrow(/minFallbackMs must be an integer between 0 and 3600000/);
    expect(() => createResilientStore({ redis, local: redis as never })).toThrow(/local must be a store created by createMemoryStore/);
    expect(() => createResilientStore({ redis, extra: 1 } as never)).toThrow(/unknown option "extra"/);
  });
});
