import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bulkhead } from './bulkhead.js';
import { BulkheadRejectedError } from './errors.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A call that finishes when the test says so. */
function gate<T = string>(value: T) {
  let open: () => void = () => undefined;
  const started = vi.fn();
  const fn = () => {
    started();
    return new Promise<T>((resolve) => (open = () => resolve(value)));
  };
  return { fn, started, open: () => open() };
}

describe('bulkhead', () => {
  it('runs up to maxConcurrent, queues up to maxQueue and rejects the rest at once', async () => {
    const pool = bulkhead({ maxConcurrent: 2, maxQueue: 1 });
    const calls = [gate('a'), gate('b'), gate('c'), gate('d')];
    const results = calls.map((call) => pool.execute(call.fn).catch((error: unknown) => error));
    expect(pool.active).toBe(2);
    expect(pool.queued).toBe(1);
    const rejected = await results[3];
    expect(rejected).toBeInstanceOf(BulkheadRejectedError);
    expect((rejected as BulkheadRejectedError).code).toBe('BULKHEAD_FULL');
    expect((rejected as BulkheadRejectedError).reason).toBe('full');
    expect(calls[3]?.started).not.toHaveBeenCalled();
    expect(calls[2]?.started).not.toHaveBeenCalled();
    calls[0]?.open();
    await expect(results[0]).resolves.toBe('a');
    expect(calls[2]?.started).toHaveBeenCalledOnce();
    expect(pool.queued).toBe(0);
    calls[1]?.open();
    calls[2]?.open();
    await expect(Promise.all(results.slice(1, 3))).resolves.toEqual(['b', 'c']);
    expect(pool.active).toBe(0);
  });

  it('starts queued calls in arrival order', async () => {
    const pool = bulkhead({ maxConcurrent: 1, maxQueue: 10 });
    const order: number[] = [];
    const first = gate('first');
    const running = pool.execute(first.fn);
    const queued = [1, 2, 3].map((index) => pool.execute(async () => order.push(index)));
    first.open();
    await running;
    await Promise.all(queued);
    expect(order).toEqual([1, 2, 3]);
  });

  it('frees the slot of a call that fails', async () => {
    const pool = bulkhead({ maxConcurrent: 1, maxQueue: 0 });
    await expect(pool.execute(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(
      pool.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    await expect(pool.execute(async () => 'free again')).resolves.toBe('free again');
  });

  it('rejects a call that waits longer than queueTimeoutMs, and it leaves the queue', async () => {
    const pool = bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 100 });
    const blocker = gate('x');
    void pool.execute(blocker.fn);
    const waiting = vi.fn(async () => 'never');
    const outcome = pool.execute(waiting).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(100);
    const error = await outcome;
    expect((error as BulkheadRejectedError).reason).toBe('queue-timeout');
    expect(pool.queued).toBe(0);
    blocker.open();
    await vi.advanceTimersByTimeAsync(0);
    expect(waiting).not.toHaveBeenCalled();
  });

  it('removes a queued call whose caller aborts, and cleans up its timer', async () => {
    const pool = bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 10_000 });
    const blocker = gate('x');
    void pool.execute(blocker.fn);
    const caller = new AbortController();
    const waiting = vi.fn(async () => 'never');
    const outcome = pool.execute(waiting, { signal: caller.signal, attempt: 1 }).catch((error: unknown) => error);
    const reason = new Error('client left');
    caller.abort(reason);
    expect(await outcome).toBe(reason);
    expect(pool.queued).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    blocker.open();
    await vi.advanceTimersByTimeAsync(0);
    expect(waiting).not.toHaveBeenCalled();
  });

  it('rejects at once when maxQueue is 0', async () => {
    const pool = bulkhead({ maxConcurrent: 1, maxQueue: 0 });
    void pool.execute(gate('x').fn);
    await expect(pool.execute(async () => 1)).rejects.toBeInstanceOf(BulkheadRejectedError);
  });

  it('answers a bulkhead rejection as 503 with Retry-After', () => {
    const error = new BulkheadRejectedError('full');
    expect(error.status).toBe(503);
    expect(error.headers).toEqual({ 'retry-after': '1' });
    expect(error.stack ?? '').not.toMatch(/\n\s+at /);
  });

  it('keeps its bookkeeping right under many queued and cancelled calls', async () => {
    const pool = bulkhead({ maxConcurrent: 2, maxQueue: 5000 });
    const blockers = [gate(0), gate(0)];
    for (const blocker of blockers) void pool.execute(blocker.fn);
    const controllers = Array.from({ length: 3000 }, () => new AbortController());
    const results = controllers.map((controller, index) => pool.execute(async () => index, { signal: controller.signal, attempt: 1 }).catch(() => -1));
    controllers.forEach((controller, index) => {
      if (index % 2 === 0) controller.abort(new Error('gone'));
    });
    expect(pool.queued).toBe(1500);
    for (const blocker of blockers) blocker.open();
    const values = await Promise.all(results);
    expect(values.filter((value) => value >= 0)).toHaveLength(1500);
    expect(pool.active).toBe(0);
    expect(pool.queued).toBe(0);
  });

  it.each([
    [{ maxConcurrent: 0, maxQueue: 1 }, /maxConcurrent must be an integer from 1/],
    [{ maxConcurrent: 1, maxQueue: -1 }, /maxQueue must be an integer from 0/],
    [{ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 0 }, /queueTimeoutMs must be an integer from 1/],
  ])('rejects %j', (options, message) => {
    expect(() => bulkhead(options)).toThrow(message);
  });
});
