import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/observability/metrics-registry.js';
import { createMemoryStore, type MemoryRateLimitStore } from '../../src/ratelimit/memory-store.js';
import { limitOf, manualClock, recordingLogger } from './support/definitions.js';

/** Keys held, counted from the store's tables rather than its own counter. */
function heldInTables(store: MemoryRateLimitStore): number {
  const tables = (store as unknown as { tables: Map<string, Map<string, unknown>> }).tables;
  let total = 0;
  for (const table of tables.values()) total += table.size;
  return total;
}

describe('memory store bounds', () => {
  it('never holds more than maxSize keys, even for 1,000,000 distinct keys', () => {
    const clock = manualClock();
    const store = createMemoryStore({ maxSize: 5000, now: clock.now, registry: createMetricsRegistry({ defaultMetrics: false }) });
    const limit = limitOf('fixed-window', 10, 60_000);
    let maxSeen = 0;
    for (let index = 0; index < 1_000_000; index += 1) {
      store.consume(limit, `flood-${index}`, 1);
      if (index % 1000 === 0) {
        maxSeen = Math.max(maxSeen, store.size);
        clock.advance(1);
      }
    }
    expect(maxSeen).toBeLessThanOrEqual(5000);
    expect(store.size).toBe(5000);
    expect(heldInTables(store)).toBe(5000);
  });

  it('keeps a limited key blocked through a flood of new keys', () => {
    const clock = manualClock();
    const store = createMemoryStore({ maxSize: 1000, now: clock.now, registry: createMetricsRegistry({ defaultMetrics: false }) });
    const limit = limitOf('sliding-window', 5, 60_000);
    for (let index = 0; index < 5; index += 1) expect(store.consume(limit, 'attacker', 1).allowed).toBe(true);
    expect(store.consume(limit, 'attacker', 1).allowed).toBe(false);
    for (let index = 0; index < 200_000; index += 1) store.consume(limit, `fresh-${index}`, 1);
    expect(store.size).toBeLessThanOrEqual(1000);
    const after = store.consume(limit, 'attacker', 1);
    expect(after.allowed).toBe(false);
    expect(after.reason).toBe('limited');
  });

  it('protects a key whose quota is exactly used up (the next request would be rejected)', () => {
    const clock = manualClock();
    const store = createMemoryStore({ maxSize: 10, now: clock.now, registry: createMetricsRegistry({ defaultMetrics: false }) });
    const limit = limitOf('gcra', 3, 3000);
    for (let index = 0; index < 3; index += 1) store.consume(limit, 'edge', 1);
    for (let index = 0; index < 1000; index += 1) store.consume(limit, `other-${index}`, 1);
    expect(store.consume(limit, 'edge', 1).allowed).toBe(false);
  });

  it('evicts expired keys before live ones, even ones used more recently', () => {
    const clock = manualClock();
    const store = createMemoryStore({ maxSize: 3, now: clock.now, registry: createMetricsRegistry({ defaultMetrics: false }) });
    const long = limitOf('fixed-window', 10, 3_600_000, { prefix: 'long' });
    const short = limitOf('fixed-window', 10, 1000, { prefix: 'short' });
    clock.set(3_600_000 * 500); // the start of an hour window, so "long" keys live for the hour
    store.consume(long, 'old-live', 3);
    clock.advance(10);
    store.consume(long, 'other-live', 1);
    clock.advance(10);
    store.consume(short, 'recent-short', 1);
    clock.advance(5000); // the short window (and its expiry second) is over; the long one is not
    store.consume(long, 'newcomer', 1);
    expect(store.size).toBe(3);
    // "old-live" was least recently used but live: it kept its count; "recent-short" was the victim.
    expect(store.consume(long, 'old-live', 0).remaining).toBe(7);
    expect(store.consume(long, 'other-live', 0).remaining).toBe(9);
  });

  it('evicts the least recently used live key when nothing has expired', () => {
    const clock = manualClock();
    const store = createMemoryStore({ maxSize: 3, now: clock.now, registry: createMetricsRegistry({ defaultMetrics: false }) });
    const limit = limitOf('fixed-window', 10, 3_600_000);
    store.consume(limit, 'a', 1);
    store.consume(limit, 'b', 1);
    store.consume(limit, 'c', 1);
    store.consume(limit, 'a', 1); // a is now the most recently used; b the least
    store.consume(limit, 'd', 1);
    expect(store.consume(limit, 'a', 0).remaining).toBe(8);
    expect(store.consume(limit, 'c', 0).remaining).toBe(9);
    expect(store.consume(limit, 'b', 0).remaining).toBe(10);
  });

  it('refuses new keys (fail closed) while every entry is a limited key, and accepts them once one expires', () => {
    const clock = manualClock(0);
    const { logger, lines } = recordingLogger();
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const store = createMemoryStore({ maxSize: 2, now: clock.now, logger, registry });
    const limit = limitOf('fixed-window', 1, 10_000);
    store.consume(limit, 'a', 1);
    store.consume(limit, 'b', 1);
    const refused = store.consume(limit, 'c', 1);
    expect(refused).toMatchObject({ allowed: false, reason: 'limited', remaining: 0 });
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    store.consume(limit, 'd', 1);
    expect(store.stats().saturatedRejections).toBe(2);
    expect(lines.filter((line) => line.message.includes('full of currently limited keys'))).toHaveLength(1);
    clock.advance(10_000);
    expect(store.consume(limit, 'c', 1).allowed).toBe(true);
  });

  it('drops expired keys as time passes without any eviction pressure', () => {
    const clock = manualClock(0);
    const store = createMemoryStore({ maxSize: 100, now: clock.now, registry: createMetricsRegistry({ defaultMetrics: false }) });
    const limit = limitOf('fixed-window', 10, 1000);
    for (let index = 0; index < 50; index += 1) store.consume(limit, `k${index}`, 1);
    expect(store.size).toBe(50);
    clock.advance(5000);
    for (let index = 0; index < 40; index += 1) store.consume(limit, 'survivor', 0);
    expect(store.size).toBe(0);
    expect(heldInTables(store)).toBe(0);
  });

  it('does not store a key that was only peeked at', () => {
    const store = createMemoryStore({ maxSize: 10, registry: createMetricsRegistry({ defaultMetrics: false }) });
    const decision = store.consume(limitOf('gcra', 5, 1000), 'never-seen', 0);
    expect(decision).toMatchObject({ allowed: true, remaining: 5, resetMs: 0 });
    expect(store.size).toBe(0);
  });

  it('gives a recycled entry a fresh state', () => {
    const clock = manualClock();
    const store = createMemoryStore({ maxSize: 1, now: clock.now, registry: createMetricsRegistry({ defaultMetrics: false }) });
    const limit = limitOf('sliding-window', 3, 3_600_000);
    store.consume(limit, 'first', 2);
    expect(store.consume(limit, 'second', 1).remaining).toBe(2);
  });

  it('keeps the state of one prefix under different algorithms apart', () => {
    const store = createMemoryStore({ maxSize: 10, registry: createMetricsRegistry({ defaultMetrics: false }) });
    store.consume(limitOf('fixed-window', 5, 60_000, { prefix: 'same' }), 'k', 5);
    expect(store.consume(limitOf('sliding-window', 5, 60_000, { prefix: 'same' }), 'k', 1).allowed).toBe(true);
  });
});

describe('memory store operations', () => {
  it('warns once when crossing 80% of maxSize, and again only after falling below 70%', () => {
    const clock = manualClock(0);
    const { logger, lines } = recordingLogger();
    const store = createMemoryStore({ maxSize: 10, now: clock.now, logger, registry: createMetricsRegistry({ defaultMetrics: false }) });
    const limit = limitOf('fixed-window', 10, 1000);
    const warnings = () => lines.filter((line) => line.level === 'warn' && line.message.includes('80% of maxSize')).length;
    for (let index = 0; index < 7; index += 1) store.consume(limit, `a${index}`, 1);
    expect(warnings()).toBe(0);
    store.consume(limit, 'a7', 1);
    expect(warnings()).toBe(1);
    for (let index = 0; index < 20; index += 1) store.consume(limit, `b${index}`, 1);
    expect(warnings()).toBe(1);
    clock.advance(3000); // everything expires; sweeps bring the size down
    for (let index = 0; index < 10; index += 1) store.consume(limit, 'probe', 0);
    expect(store.size).toBeLessThan(7);
    for (let index = 0; index < 8; index += 1) store.consume(limit, `c${index}`, 1);
    expect(warnings()).toBe(2);
  });

  it('throws a clear error when used after destroy()', async () => {
    const store = createMemoryStore({ name: 'doomed', registry: createMetricsRegistry({ defaultMetrics: false }) });
    const limit = limitOf('gcra', 5, 1000);
    store.consume(limit, 'k', 1);
    store.destroy();
    store.destroy();
    expect(() => store.consume(limit, 'k', 1)).toThrow('memory rate-limit store "doomed" was used after destroy()');
    expect(() => store.consumeAll([{ limit, key: 'k', cost: 1 }])).toThrow(/after destroy/);
    expect(() => store.acquireLease(limitOf('concurrency', 1, 1000), 'k', 1)).toThrow(/after destroy/);
    expect(() => store.reset(limit, 'k')).toThrow(/after destroy/);
    expect(() => store.claimPrefix('p', 'owner')).toThrow(/after destroy/);
    expect(store.size).toBe(0);
  });

  it('reports its size and capacity for health pages and Prometheus', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const store = createMemoryStore({ name: 'edge', maxSize: 50, registry });
    store.consume(limitOf('gcra', 5, 1000), 'k', 1);
    expect(store.stats()).toEqual({ name: 'edge', size: 1, maxSize: 50, saturatedRejections: 0 });
    const text = await registry.metrics();
    expect(text).toContain('ratelimit_memory_store_entries{store="edge"} 1');
    expect(text).toContain('ratelimit_memory_store_max_size{store="edge"} 50');
  });

  it('validates its options', () => {
    expect(() => createMemoryStore({ maxSize: 0 })).toThrow(/maxSize must be an integer between 1 and/);
    expect(() => createMemoryStore({ maxSize: 1.5 })).toThrow(TypeError);
    expect(() => createMemoryStore({ maxSize: 60_000_000 })).toThrow(/maxSize/);
    expect(() => createMemoryStore({ name: 'bad name' })).toThrow(/name must be/);
  });

  it('rejects consume() on a concurrency limit', () => {
    const store = createMemoryStore({ registry: createMetricsRegistry({ defaultMetrics: false }) });
    expect(() => store.consume(limitOf('concurrency', 2, 1000), 'k', 1)).toThrow(/acquireLease/);
  });
});

describe('memory store multi-limit checks', () => {
  it('consumes nothing when one blocking limit rejects', () => {
    const store = createMemoryStore({ registry: createMetricsRegistry({ defaultMetrics: false }) });
    const perSecond = limitOf('gcra', 5, 1000, { prefix: 'ps' });
    const perHour = limitOf('fixed-window', 2, 3_600_000, { prefix: 'ph' });
    expect(store.consumeAll([{ limit: perSecond, key: 'k', cost: 1 }, { limit: perHour, key: 'k', cost: 1 }]).every((d) => d.allowed)).toBe(true);
    expect(store.consumeAll([{ limit: perSecond, key: 'k', cost: 1 }, { limit: perHour, key: 'k', cost: 1 }]).every((d) => d.allowed)).toBe(true);
    const third = store.consumeAll([{ limit: perSecond, key: 'k', cost: 1 }, { limit: perHour, key: 'k', cost: 1 }]);
    expect(third.map((d) => d.allowed)).toEqual([true, false]);
    // The per-second limit was not charged for the rejected request.
    expect(store.consume(perSecond, 'k', 0).remaining).toBe(3);
  });

  it('lets a non-blocking (shadow) limit reject without stopping the others', () => {
    const store = createMemoryStore({ registry: createMetricsRegistry({ defaultMetrics: false }) });
    const real = limitOf('fixed-window', 10, 60_000, { prefix: 'real' });
    const shadow = limitOf('fixed-window', 1, 60_000, { prefix: 'shadow', blocking: false });
    store.consumeAll([{ limit: real, key: 'k', cost: 1 }, { limit: shadow, key: 'k', cost: 1 }]);
    const second = store.consumeAll([{ limit: real, key: 'k', cost: 1 }, { limit: shadow, key: 'k', cost: 1 }]);
    expect(second.map((d) => d.allowed)).toEqual([true, false]);
    expect(store.consume(real, 'k', 0).remaining).toBe(8);
  });

  it('does not mix up entries when making room recycles an expired entry of the same call', () => {
    const clock = manualClock(0);
    const store = createMemoryStore({ maxSize: 2, now: clock.now, registry: createMetricsRegistry({ defaultMetrics: false }) });
    const a = limitOf('fixed-window', 5, 1000, { prefix: 'a' });
    const b = limitOf('fixed-window', 5, 3_600_000, { prefix: 'b' });
    store.consume(b, 'k', 1);
    store.consume(b, 'filler', 1);
    clock.advance(10);
    const decisions = store.consumeAll([{ limit: a, key: 'k', cost: 2 }, { limit: b, key: 'k', cost: 1 }]);
    expect(decisions.map((d) => d.remaining)).toEqual([3, 3]);
    expect(store.consume(b, 'k', 0).remaining).toBe(3);
  });
});

describe('memory store leases', () => {
  it('grants up to the limit, frees on release and on expiry', async () => {
    const clock = manualClock(0);
    const store = createMemoryStore({ now: clock.now, registry: createMetricsRegistry({ defaultMetrics: false }) });
    const limit = limitOf('concurrency', 2, 5000);
    const first = store.acquireLease(limit, 'k', 1);
    const second = store.acquireLease(limit, 'k', 1);
    const third = store.acquireLease(limit, 'k', 1);
    expect([first, second, third].map((r) => r.decision.allowed)).toEqual([true, true, false]);
    expect(third.handle).toBeUndefined();
    expect(third.decision.retryAfterMs).toBe(5000);
    await store.releaseLease(first.handle!);
    await store.releaseLease(first.handle!); // idempotent
    expect(store.acquireLease(limit, 'k', 0).decision.remaining).toBe(1);
    clock.advance(5000); // the second lease's TTL runs out (its holder crashed)
    expect(store.acquireLease(limit, 'k', 2).decision.allowed).toBe(true);
  });

  it('never evicts a key that holds leases', () => {
    const clock = manualClock(0);
    const store = createMemoryStore({ maxSize: 5, now: clock.now, registry: createMetricsRegistry({ defaultMetrics: false }) });
    const limit = limitOf('concurrency', 1, 60_000);
    expect(store.acquireLease(limit, 'busy', 1).decision.allowed).toBe(true);
    const counters = limitOf('fixed-window', 100, 60_000);
    for (let index = 0; index < 1000; index += 1) store.consume(counters, `n${index}`, 1);
    expect(store.acquireLease(limit, 'busy', 1).decision.allowed).toBe(false);
  });
});
