import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimeoutError } from './errors.js';
import { waitFor } from './wait-for.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function job() {
  const events = new EventEmitter();
  const unsubscribe = vi.fn();
  const subscribe = vi.fn((resolve: (value: string) => void, reject: (error: unknown) => void) => {
    const onDone = (value: string) => resolve(value);
    const onFailed = (error: unknown) => reject(error);
    events.on('done', onDone).on('failed', onFailed);
    return () => {
      unsubscribe();
      events.off('done', onDone).off('failed', onFailed);
    };
  });
  return { events, subscribe, unsubscribe };
}

describe('waitFor', () => {
  it('resolves on the event, subscribing once (no polling) and unsubscribing once', async () => {
    const { events, subscribe, unsubscribe } = job();
    const result = waitFor(subscribe, { deadlineMs: 1000 });
    events.emit('done', 'report.csv');
    events.emit('done', 'again');
    await expect(result).resolves.toBe('report.csv');
    expect(subscribe).toHaveBeenCalledOnce();
    expect(unsubscribe).toHaveBeenCalledOnce();
    expect(events.listenerCount('done')).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with the source’s error', async () => {
    const { events, subscribe, unsubscribe } = job();
    const result = waitFor(subscribe, { deadlineMs: 1000 });
    events.emit('failed', new Error('job crashed'));
    await expect(result).rejects.toThrow('job crashed');
    expect(unsubscribe).toHaveBeenCalledOnce();
  });

  it('rejects with TimeoutError at the deadline and unsubscribes', async () => {
    const { subscribe, unsubscribe, events } = job();
    const outcome = waitFor(subscribe, { deadlineMs: 500 }).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(499);
    expect(unsubscribe).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(500);
    expect(unsubscribe).toHaveBeenCalledOnce();
    expect(events.listenerCount('done')).toBe(0);
  });

  it('rejects with the signal’s reason on abort and unsubscribes', async () => {
    const { subscribe, unsubscribe } = job();
    const controller = new AbortController();
    const outcome = waitFor(subscribe, { deadlineMs: 10_000, signal: controller.signal }).catch((error: unknown) => error);
    const reason = new Error('shutting down');
    controller.abort(reason);
    expect(await outcome).toBe(reason);
    expect(unsubscribe).toHaveBeenCalledOnce();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not subscribe when the signal is already aborted', async () => {
    const { subscribe } = job();
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await expect(waitFor(subscribe, { deadlineMs: 10, signal: controller.signal })).rejects.toThrow('too late');
    expect(subscribe).not.toHaveBeenCalled();
  });

  it('unsubscribes once when subscribe resolves before returning its unsubscribe function', async () => {
    const unsubscribe = vi.fn();
    const result = waitFor<string>((resolve) => {
      resolve('already done');
      return unsubscribe;
    }, { deadlineMs: 1000 });
    await expect(result).resolves.toBe('already done');
    expect(unsubscribe).toHaveBeenCalledOnce();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects when subscribe throws or returns no function', async () => {
    await expect(
      waitFor(() => {
        throw new Error('no such job');
      }, { deadlineMs: 1000 }),
    ).rejects.toThrow('no such job');
    await expect(waitFor((() => undefined) as never, { deadlineMs: 1000 })).rejects.toThrow(/must return an unsubscribe function/);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('still settles when unsubscribe throws', async () => {
    const result = waitFor<number>((resolve) => {
      queueMicrotask(() => resolve(1));
      return () => {
        throw new Error('unsubscribe bug');
      };
    }, { deadlineMs: 1000 });
    await expect(result).resolves.toBe(1);
  });

  it.each([-1, 1.5, Number.NaN])('rejects deadlineMs %s', (deadlineMs) => {
    expect(() => waitFor(() => () => undefined, { deadlineMs })).toThrow(/deadlineMs must be an integer/);
  });
});
