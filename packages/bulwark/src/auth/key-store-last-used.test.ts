import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LastUsedEntry } from './key-store.js';
import { createLastUsedRecorder } from './key-store-last-used.js';

describe('createLastUsedRecorder', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const fakeStore = () => {
    const batches: LastUsedEntry[][] = [];
    return { batches, touch: vi.fn(async (entries: readonly LastUsedEntry[]) => void batches.push([...entries])) };
  };

  it('writes nothing per use, then one merged batch per interval', async () => {
    const store = fakeStore();
    const recorder = createLastUsedRecorder({ store, flushIntervalMs: 10_000 });
    for (let i = 0; i < 100; i += 1) recorder.record('key_a', 1000 + i);
    recorder.record('key_b', 5);
    expect(store.touch).not.toHaveBeenCalled();
    expect(recorder.pending).toBe(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(store.batches).toEqual([[{ id: 'key_a', at: new Date(1099) }, { id: 'key_b', at: new Date(5) }]]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(store.touch).toHaveBeenCalledTimes(1);
    await recorder.close();
  });

  it('keeps the latest time per key even when uses arrive out of order', async () => {
    const store = fakeStore();
    const recorder = createLastUsedRecorder({ store });
    recorder.record('key_a', 50);
    recorder.record('key_a', 10);
    await recorder.flush();
    expect(store.batches).toEqual([[{ id: 'key_a', at: new Date(50) }]]);
    await recorder.close();
  });

  it('flushes early when the buffer fills, and bounds what it holds', async () => {
    const store = fakeStore();
    let release: () => void = () => undefined;
    store.touch.mockImplementationOnce(async (entries) => {
      store.batches.push([...entries]);
      await new Promise<void>((resolve) => (release = resolve));
    });
    const recorder = createLastUsedRecorder({ store, maxPending: 3 });
    for (const id of ['a', 'b', 'c']) recorder.record(id, 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.touch).toHaveBeenCalledTimes(1);
    for (const id of ['d', 'e', 'f', 'g', 'h']) recorder.record(id, 2);
    expect(recorder.pending).toBe(3);
    release();
    await recorder.close();
    expect(store.batches.map((batch) => batch.map((entry) => entry.id))).toEqual([['a', 'b', 'c'], ['d', 'e', 'f']]);
  });

  it('keeps a failed batch for the next flush and logs the failure', async () => {
    const store = fakeStore();
    store.touch.mockRejectedValueOnce(new Error('db down'));
    const warn = vi.fn();
    const recorder = createLastUsedRecorder({ store, logger: { warn, error: vi.fn(), info: vi.fn(), debug: vi.fn() } });
    recorder.record('key_a', 7);
    await recorder.flush();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(recorder.pending).toBe(1);
    await recorder.flush();
    expect(store.batches).toEqual([[{ id: 'key_a', at: new Date(7) }]]);
    await recorder.close();
  });

  it('writes what is pending on close, then ignores further uses', async () => {
    const store = fakeStore();
    const recorder = createLastUsedRecorder({ store });
    recorder.record('key_a', 1);
    await recorder.close();
    recorder.record('key_b', 2);
    expect(store.batches).toEqual([[{ id: 'key_a', at: new Date(1) }]]);
    expect(recorder.pending).toBe(0);
  });

  it('validates options', () => {
    const store = fakeStore();
    expect(() => createLastUsedRecorder({ store, flushIntervalMs: 10 })).toThrow(/flushIntervalMs/);
    expect(() => createLastUsedRecorder({ store, maxPending: 0 })).toThrow(/maxPending/);
    expect(() => createLastUsedRecorder({ store: {} as typeof store })).toThrow(/touch/);
  });
});
