import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimeoutError, isTimeoutError } from './errors.js';
import { timeout } from './timeout.js';
import type { PolicyContext } from './types.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('timeout', () => {
  it('resolves with the value when the call settles in time, and clears its timer', async () => {
    const result = timeout(100).execute(async () => 'fast');
    await expect(result).resolves.toBe('fast');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with TimeoutError at the deadline and aborts the signal the call received', async () => {
    let seen: AbortSignal | undefined;
    const result = timeout(100).execute(({ signal }) => {
      seen = signal;
      return new Promise(() => undefined);
    });
    const outcome = result.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(99);
    expect(seen?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(isTimeoutError(error)).toBe(true);
    expect((error as TimeoutError).code).toBe('TIMEOUT');
    expect((error as TimeoutError).timeoutMs).toBe(100);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
  });

  it('ignores a result that arrives after the deadline', async () => {
    let finish: (value: string) => void = () => undefined;
    const outcome = timeout(10)
      .execute(() => new Promise<string>((resolve) => (finish = resolve)))
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(10);
    finish('late');
    expect(await outcome).toBeInstanceOf(TimeoutError);
  });

  it('passes an abort of the caller’s signal on at once', async () => {
    const caller = new AbortController();
    let inner: AbortSignal | undefined;
    const outcome = timeout(10_000)
      .execute(
        ({ signal }) => {
          inner = signal;
          return new Promise(() => undefined);
        },
        { signal: caller.signal, attempt: 1 },
      )
      .catch((error: unknown) => error);
    const reason = new Error('client went away');
    caller.abort(reason);
    expect(await outcome).toBe(reason);
    expect(inner?.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not call the function when the caller’s signal is already aborted', async () => {
    const caller = new AbortController();
    caller.abort(new Error('gone'));
    const fn = vi.fn(async () => 1);
    await expect(timeout(10).execute(fn, { signal: caller.signal, attempt: 1 })).rejects.toThrow('gone');
    expect(fn).not.toHaveBeenCalled();
  });

  it('keeps the attempt number of the enclosing context', async () => {
    let context: PolicyContext | undefined;
    await timeout(10).execute(
      (received) => {
        context = received;
        return 1;
      },
      { signal: new AbortController().signal, attempt: 3 },
    );
    expect(context?.attempt).toBe(3);
  });

  it('rejects with a synchronous throw and with the error factory’s error', async () => {
    await expect(
      timeout(10).execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    const custom = timeout(5, { error: (ms) => new RangeError(`upstream took over ${ms} ms`) })
      .execute(() => new Promise(() => undefined))
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(5);
    expect(await custom).toEqual(new RangeError('upstream took over 5 ms'));
  });

  it('rejects with the error thrown by a failing error factory instead of crashing the process', async () => {
    const failure = new Error('factory failed');
    const pending = timeout(5, {
      error: () => {
        throw failure;
      },
    })
      .execute(() => new Promise(() => undefined))
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(5);
    expect(await pending).toBe(failure);
  });

  it.each([0, -1, 1.5, Number.NaN, 2 ** 31])('rejects a timeout of %s ms', (ms) => {
    expect(() => timeout(ms)).toThrow(/timeout ms must be an integer from 1 to 2147483647/);
  });
});
