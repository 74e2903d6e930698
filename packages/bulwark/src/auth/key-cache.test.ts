import { describe, expect, it } from 'vitest';
import { createKeyCache } from './key-cache.js';

const value = (id: string) => ({ id });

describe('createKeyCache', () => {
  it('returns a found key until its TTL, then asks again', () => {
    const cache = createKeyCache<{ id: string }>({ ttlMs: 100 });
    cache.set('k1', value('a'), 0, cache.generation());
    expect(cache.get('k1', 99)).toEqual({ kind: 'hit', value: { id: 'a' } });
    expect(cache.get('k1', 100)).toBeUndefined();
    expect(cache.size.positive).toBe(0);
  });

  it('keeps unknown keys in a separate bounded tier that cannot evict found keys', () => {
    const cache = createKeyCache<{ id: string }>({ maxSize: 2, negativeMaxSize: 3 });
    cache.set('good', value('a'), 0, cache.generation());
    for (let i = 0; i < 1000; i += 1) cache.setNegative(`bad${i}`, 0, cache.generation());
    expect(cache.size).toEqual({ positive: 1, negative: 3 });
    expect(cache.get('good', 1)?.kind).toBe('hit');
    expect(cache.get('bad999', 1)).toEqual({ kind: 'negative' });
    expect(cache.get('bad0', 1)).toBeUndefined();
  });

  it('expires negative answers after negativeTtlMs', () => {
    const cache = createKeyCache<{ id: string }>({ negativeTtlMs: 10 });
    cache.setNegative('x', 0, cache.generation());
    expect(cache.get('x', 9)).toEqual({ kind: 'negative' });
    expect(cache.get('x', 10)).toBeUndefined();
  });

  it('evicts the least recently used found key', () => {
    const cache = createKeyCache<{ id: string }>({ maxSize: 2 });
    cache.set('a', value('a'), 0, cache.generation());
    cache.set('b', value('b'), 0, cache.generation());
    cache.get('a', 1);
    cache.set('c', value('c'), 0, cache.generation());
    expect(cache.get('b', 1)).toBeUndefined();
    expect(cache.get('a', 1)?.kind).toBe('hit');
    expect(cache.get('c', 1)?.kind).toBe('hit');
  });

  it('drops a key by id, and refuses answers from lookups that started before', () => {
    const cache = createKeyCache<{ id: string }>();
    cache.set('k', value('a'), 0, cache.generation());
    const before = cache.generation();
    cache.invalidate('a');
    expect(cache.get('k', 1)).toBeUndefined();
    cache.set('k', value('a'), 1, before);
    cache.setNegative('n', 1, before);
    expect(cache.size).toEqual({ positive: 0, negative: 0 });
    cache.invalidate('not-cached');
  });

  it('replaces a negative answer when the key turns out to exist', () => {
    const cache = createKeyCache<{ id: string }>();
    cache.setNegative('k', 0, cache.generation());
    cache.set('k', value('a'), 0, cache.generation());
    expect(cache.get('k', 1)?.kind).toBe('hit');
    expect(cache.size.negative).toBe(0);
  });

  it('keeps the id index consistent when entries are evicted or replaced', () => {
    const cache = createKeyCache<{ id: string }>({ maxSize: 1 });
    cache.set('k1', value('a'), 0, cache.generation());
    cache.set('k2', value('b'), 0, cache.generation());
    cache.set('k1', value('a'), 0, cache.generation());
    cache.invalidate('a');
    expect(cache.get('k1', 1)).toBeUndefined();
  });

  it('clears everything', () => {
    const cache = createKeyCache<{ id: string }>();
    cache.set('k', value('a'), 0, cache.generation());
    cache.setNegative('n', 0, cache.generation());
    cache.clear();
    expect(cache.size).toEqual({ positive: 0, negative: 0 });
  });

  it('keeps a found key staleIfErrorMs past its TTL, as stale, then drops it', () => {
    const cache = createKeyCache<{ id: string }>({ ttlMs: 100, staleIfErrorMs: 1000 });
    cache.set('k', value('a'), 0, cache.generation());
    expect(cache.get('k', 99)?.kind).toBe('hit');
    expect(cache.get('k', 100)).toEqual({ kind: 'stale', value: { id: 'a' } });
    expect(cache.get('k', 1099)?.kind).toBe('stale');
    expect(cache.get('k', 1100)).toBeUndefined();
    expect(cache.size.positive).toBe(0);
  });

  it('drops a stale key on invalidation, and when the store says it no longer exists', () => {
    const cache = createKeyCache<{ id: string }>({ ttlMs: 100, staleIfErrorMs: 1000, negativeTtlMs: 10 });
    cache.set('k1', value('a'), 0, cache.generation());
    cache.set('k2', value('b'), 0, cache.generation());
    cache.invalidate('a');
    expect(cache.get('k1', 200)).toBeUndefined();
    cache.setNegative('k2', 200, cache.generation());
    expect(cache.get('k2', 201)).toEqual({ kind: 'negative' });
    // A negative answer is never kept stale.
    expect(cache.get('k2', 210)).toBeUndefined();
  });

  it('validates options', () => {
    expect(() => createKeyCache({ staleIfErrorMs: 86_400_001 })).toThrow(/cache.staleIfErrorMs must be an integer from 0 to 86400000/);
    expect(() => createKeyCache({ maxSize: 0 })).toThrow(/cache.maxSize/);
    expect(() => createKeyCache({ negativeMaxSize: -1 })).toThrow(/cache.negativeMaxSize/);
    expect(() => createKeyCache({ negativeTtlMs: Number.NaN })).toThrow(/cache.negativeTtlMs/);
  });
});
