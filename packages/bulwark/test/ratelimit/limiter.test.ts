import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/observability/metrics-registry.js';
import { createRateLimiter, createMemoryStore, normalizeKey, type RateLimiterOptions } from '../../src/ratelimit/index.js';
import { hashTagSafeKey } from '../../src/ratelimit/key-normalization.js';
import { FakeRemoteStore, notAStore } from './support/fake-stores.js';
import { manualClock, recordingLogger } from './support/definitions.js';

const quiet = () => createMetricsRegistry({ defaultMetrics: false });
const memory = () => createMemoryStore({ registry: quiet() });

describe('createRateLimiter options', () => {
  const base = (): RateLimiterOptions => ({ name: 'api', limit: 10, windowMs: 1000, store: memory(), registry: quiet() });

  it.each([
    ['name', { name: '' }, /name must be 1–64 characters/],
    ['name', { name: 'has space' }, /name must be/],
    ['name', { name: 42 }, /name must be/],
    ['algorithm', { algorithm: 'leaky' }, /algorithm must be one of/],
    ['limit', { limit: 0 }, /limit must be an integer between 1 and 100000000/],
    ['limit', { limit: -5 }, /limit must be/],
    ['limit', { limit: 2.5 }, /limit must be/],
    ['limit', { limit: Number.NaN }, /limit must be/],
    ['limit', { limit: 1e9 }, /limit must be/],
    ['limit', { limit: '10' }, /limit must be/],
    ['windowMs', { windowMs: 0 }, /windowMs must be an integer between 1 and 86400000/],
    ['windowMs', { windowMs: 86_400_001 }, /windowMs must be/],
    ['windowMs', { windowMs: Number.POSITIVE_INFINITY }, /windowMs must be/],
    ['burst', { burst: 0 }, /burst must be an integer/],
    ['burst', { burst: 101 }, /burst must be an integer between 1 and 100/],
    ['burst', { algorithm: 'fixed-window', burst: 5 }, /burst applies to the gcra algorithm only/],
    ['limit rate', { limit: 2000, windowMs: 1 }, /limit must be at most 1000 per millisecond of windowMs for gcra/],
    ['store', { store: notAStore }, /store must be a RateLimitStore/],
    ['onStoreFailure', { onStoreFailure: 'maybe' }, /onStoreFailure must be one of/],
    ['onStoreFailure', { onStoreFailure: 'local' }, /onStoreFailure 'local' needs a store with a local fallback/],
    ['expectedInstances', { expectedInstances: 0 }, /expectedInstances must be an integer between 1 and 10000/],
    ['shadow', { shadow: 'yes' }, /shadow must be a boolean/],
    ['keyPrefix', { keyPrefix: 'a:b' }, /keyPrefix must be/],
    ['keyPrefix', { keyPrefix: '{tag}' }, /keyPrefix must be/],
    ['blockCache', { blockCache: { maxSize: 0 } }, /blockCache.maxSize must be an integer/],
    ['unknown', { onStoreFaliure: 'open' }, /unknown option "onStoreFaliure"/],
  ])('rejects a bad %s with a TypeError naming it', (_label, override, message) => {
    expect(() => createRateLimiter({ ...base(), ...(override as object) } as RateLimiterOptions)).toThrow(TypeError);
    expect(() => createRateLimiter({ ...base(), ...(override as object) } as RateLimiterOptions)).toThrow(message);
  });

  it('defaults to GCRA with burst = limit, fail closed on a store without fallback', async () => {
    const limiter = createRateLimiter(base());
    expect(limiter.definition).toMatchObject({ algorithm: 'gcra', burst: 10, onStoreFailure: 'closed', prefix: 'api', blocking: true });
    expect(limiter.policy).toEqual({ name: 'api', limit: 10, windowSeconds: 1 });
    expect((await limiter.peek('k')).remaining).toBe(10);
  });

  it('refuses a second live limiter with the same key prefix on one store, and allows it after dispose()', () => {
    const store = memory();
    const first = createRateLimiter({ name: 'orders', limit: 5, windowMs: 1000, store, registry: quiet() });
    expect(() => createRateLimiter({ name: 'orders', limit: 50, windowMs: 1000, store, registry: quiet() })).toThrow(/keyPrefix "orders" of limiter "orders" is already used by limiter "orders"/);
    expect(() => createRateLimiter({ name: 'other', keyPrefix: 'orders', limit: 5, windowMs: 1000, store, registry: quiet() })).toThrow(TypeError);
    // Another store is another namespace.
    createRateLimiter({ name: 'orders', limit: 5, windowMs: 1000, store: memory(), registry: quiet() });
    first.dispose();
    first.dispose();
    expect(createRateLimiter({ name: 'orders', limit: 5, windowMs: 1000, store, registry: quiet() }).name).toBe('orders');
  });

  it('throws after dispose()', () => {
    const limiter = createRateLimiter(base());
    limiter.dispose();
    expect(() => limiter.consume('k')).toThrow('rate limiter "api" was used after dispose()');
  });
});

describe('limiter decisions', () => {
  it('counts, peeks and resets', async () => {
    const limiter = createRateLimiter({ name: 'basic', algorithm: 'fixed-window', limit: 2, windowMs: 60_000, store: memory(), registry: quiet() });
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, remaining: 1, reason: 'ok', limit: 2 });
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, remaining: 0 });
    const rejected = await limiter.consume('k');
    expect(rejected).toMatchObject({ allowed: false, remaining: 0, reason: 'limited' });
    expect(rejected.retryAfterMs).toBeGreaterThan(0);
    expect(rejected.retryAfterMs).toBe(rejected.resetMs);
    expect(await limiter.peek('k')).toMatchObject({ allowed: true, remaining: 0 });
    await limiter.reset('k');
    expect(await limiter.peek('k')).toMatchObject({ remaining: 2 });
  });

  it.each([-1, 1.5, Number.NaN, 11])('rejects cost %s as a programming error', (cost) => {
    const limiter = createRateLimiter({ name: 'costly', limit: 10, windowMs: 1000, store: memory(), registry: quiet() });
    expect(() => limiter.consume('k', cost)).toThrow(/cost must be an integer between 0 and 10/);
  });

  it('charges weighted requests', async () => {
    const limiter = createRateLimiter({ name: 'weights', algorithm: 'sliding-window', limit: 10, windowMs: 60_000, store: memory(), registry: quiet() });
    expect((await limiter.consume('k', 7)).remaining).toBe(3);
    expect((await limiter.consume('k', 4)).allowed).toBe(false);
    expect((await limiter.consume('k', 3)).allowed).toBe(true);
  });

  it('shadow mode decides and counts but allows', async () => {
    const registry = quiet();
    const limiter = createRateLimiter({ name: 'trial', algorithm: 'fixed-window', limit: 1, windowMs: 60_000, store: memory(), shadow: true, registry });
    expect((await limiter.consume('k')).reason).toBe('ok');
    const second = await limiter.consume('k');
    expect(second).toMatchObject({ allowed: true, reason: 'shadow', remaining: 0, retryAfterMs: 0 });
    const text = await registry.metrics();
    expect(text).toContain('ratelimit_decisions_total{limiter="trial",result="shadow"} 1');
    expect(text).toContain('ratelimit_requests_total{limiter="trial"} 2');
    expect(text).not.toContain('ratelimit_rejected_total{limiter="trial"');
  });

  it('hashes keys that are long, empty or start with # (and for Redis, braced), so none can collide with a plain key', async () => {
    const long = 'x'.repeat(10_000);
    expect(normalizeKey(long)).toMatch(/^#[A-Za-z0-9_-]{43}$/);
    expect(normalizeKey('')).toMatch(/^#/);
    expect(normalizeKey('a{b}')).toBe('a{b}'); // the Redis store hashes braces: they would change the hash tag
    expect(hashTagSafeKey('a{b}')).toMatch(/^#/);
    expect(hashTagSafeKey('plain')).toBe('plain');
    expect(normalizeKey(normalizeKey(long))).not.toBe(normalizeKey(long));
    expect(normalizeKey('plain:key')).toBe('plain:key');
    const limiter = createRateLimiter({ name: 'hashy', algorithm: 'fixed-window', limit: 1, windowMs: 60_000, store: memory(), registry: quiet() });
    await limiter.consume(long);
    expect((await limiter.consume(normalizeKey(long))).allowed).toBe(true);
    expect((await limiter.consume(long)).allowed).toBe(false);
  });
});

describe('local block cache', () => {
  it('rejects a blocked key in-process until its retry time, without calling the store', async () => {
    const clock = manualClock();
    const store = new FakeRemoteStore('fake', clock.now);
    const registry = quiet();
    const limiter = createRateLimiter({ name: 'guarded', algorithm: 'fixed-window', limit: 2, windowMs: 10_000, store, now: clock.now, registry });
    clock.set(1_700_000_000_000 - (1_700_000_000_000 % 10_000));
    await limiter.consume('abuser');
    await limiter.consume('abuser');
    const rejected = await limiter.consume('abuser');
    expect(rejected.allowed).toBe(false);
    const callsBefore = store.calls;
    for (let index = 0; index < 100; index += 1) {
      const cached = await limiter.consume('abuser');
      expect(cached).toMatchObject({ allowed: false, reason: 'limited', remaining: 0 });
      expect(cached.retryAfterMs).toBe(10_000);
    }
    expect(store.calls).toBe(callsBefore);
    expect(await registry.metrics()).toContain('ratelimit_local_block_hits_total{limiter="guarded"} 100');
    // Peeks and other keys still go to the store.
    await limiter.peek('abuser');
    await limiter.consume('someone-else');
    expect(store.calls).toBe(callsBefore + 2);
    clock.advance(10_000);
    expect((await limiter.consume('abuser')).allowed).toBe(true);
  });

  it('lets a cheaper request than the blocked one ask the store', async () => {
    const store = new FakeRemoteStore();
    const limiter = createRateLimiter({ name: 'weighted-cache', algorithm: 'sliding-window', limit: 10, windowMs: 60_000, store, registry: quiet() });
    await limiter.consume('k', 8);
    expect((await limiter.consume('k', 5)).allowed).toBe(false);
    const calls = store.calls;
    expect((await limiter.consume('k', 6)).allowed).toBe(false);
    expect(store.calls).toBe(calls);
    expect((await limiter.consume('k', 2)).allowed).toBe(true);
    expect(store.calls).toBe(calls + 1);
  });

  it('forgets a key on reset, and is off for in-process stores and shadow limiters', async () => {
    const store = new FakeRemoteStore();
    const limiter = createRateLimiter({ name: 'resettable', algorithm: 'fixed-window', limit: 1, windowMs: 60_000, store, registry: quiet() });
    await limiter.consume('k');
    await limiter.consume('k');
    await limiter.reset('k');
    expect((await limiter.consume('k')).allowed).toBe(true);
    const inProcess = createRateLimiter({ name: 'local-only', limit: 1, windowMs: 1000, store: memory(), registry: quiet() });
    expect((inProcess as unknown as { blockCache: unknown }).blockCache).toBeUndefined();
    const shadow = createRateLimiter({ name: 'shadowed', limit: 1, windowMs: 1000, store: new FakeRemoteStore(), shadow: true, registry: quiet() });
    expect((shadow as unknown as { blockCache: unknown }).blockCache).toBeUndefined();
  });

  it('stays within its size', async () => {
    const store = new FakeRemoteStore();
    const limiter = createRateLimiter({ name: 'small-cache', algorithm: 'fixed-window', limit: 1, windowMs: 60_000, store, blockCache: { maxSize: 3 }, registry: quiet() });
    for (let index = 0; index < 20; index += 1) {
      await limiter.consume(`k${index}`);
      await limiter.consume(`k${index}`);
    }
    expect((limiter as unknown as { blockCache: { size: number } }).blockCache.size).toBe(3);
  });
});

describe('limiter metrics and logs', () => {
  it('labels by limiter and key prefix, never by key', async () => {
    const registry = quiet();
    const limiter = createRateLimiter({ name: 'login', keyPrefix: 'login-v2', algorithm: 'fixed-window', limit: 1, windowMs: 60_000, store: memory(), registry });
    await limiter.consume('ip:203.0.113.9');
    await limiter.consume('ip:203.0.113.9');
    await limiter.consume('user@example.com');
    const text = await registry.metrics();
    expect(text).toContain('ratelimit_requests_total{limiter="login"} 3');
    expect(text).toContain('ratelimit_rejected_total{limiter="login",key_prefix="login-v2"} 1');
    expect(text).toContain('ratelimit_decisions_total{limiter="login",result="ok"} 2');
    expect(text).toContain('ratelimit_decisions_total{limiter="login",result="limited"} 1');
    expect(text).not.toContain('203.0.113.9');
    expect(text).not.toContain('example.com');
    // Scraping twice reports the same totals (deltas are not added again).
    expect(await registry.metrics()).toContain('ratelimit_requests_total{limiter="login"} 3');
  });

  it('logs once when the store becomes unavailable and once when it recovers', async () => {
    const { logger, lines } = recordingLogger();
    const store = new FakeRemoteStore();
    const limiter = createRateLimiter({ name: 'watched', limit: 100, windowMs: 1000, store, onStoreFailure: 'open', logger, registry: quiet() });
    await limiter.consume('k');
    store.failingNodes.add('*');
    for (let index = 0; index < 5; index += 1) expect(await limiter.consume('k')).toMatchObject({ allowed: true, reason: 'store_unavailable' });
    store.failingNodes.clear();
    await limiter.consume('k');
    expect(lines.filter((line) => line.level === 'warn')).toHaveLength(1);
    expect(lines.find((line) => line.level === 'warn')?.message).toContain('allowing requests (fail open)');
    expect(lines.filter((line) => line.level === 'info' && line.message.includes('available again'))).toHaveLength(1);
  });

  it('fails closed with a retry time when the store is unavailable', async () => {
    const store = new FakeRemoteStore();
    store.failingNodes.add('*');
    const limiter = createRateLimiter({ name: 'strict', limit: 100, windowMs: 1000, store, onStoreFailure: 'closed', registry: quiet() });
    const decision = await limiter.consume('k');
    expect(decision).toMatchObject({ allowed: false, reason: 'store_unavailable', remaining: 0 });
    expect(decision.retryAfterMs).toBeGreaterThanOrEqual(1000);
  });
});
