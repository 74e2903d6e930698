import { describe, expect, it, vi } from 'vitest';
import { CircuitOpenError } from './errors.js';
import { fallback } from './fallback.js';

describe('fallback', () => {
  it('passes a success through without calling the handler', async () => {
    const handler = vi.fn(() => 'cached');
    await expect(fallback(handler).execute(async () => 'fresh')).resolves.toBe('fresh');
    expect(handler).not.toHaveBeenCalled();
  });

  it('answers a failure, including an open circuit, with the handler’s value', async () => {
    const handler = vi.fn(async (error: unknown) => `cached after ${(error as Error).name}`);
    await expect(fallback(handler).execute(() => Promise.reject(new CircuitOpenError('prices', 1000)))).resolves.toBe('cached after CircuitOpenError');
    await expect(
      fallback(() => 'default').execute(() => {
        throw new Error('sync');
      }),
    ).resolves.toBe('default');
  });

  it('rethrows what shouldHandle declines, and the handler’s own error', async () => {
    const policy = fallback(() => 'x', { shouldHandle: (error) => !(error instanceof TypeError) });
    await expect(policy.execute(() => Promise.reject(new TypeError('bug')))).rejects.toBeInstanceOf(TypeError);
    await expect(
      fallback(() => {
        throw new Error('fallback broken');
      }).execute(() => Promise.reject(new Error('x'))),
    ).rejects.toThrow('fallback broken');
  });

  it('gives no substitute answer to a caller that aborted', async () => {
    const caller = new AbortController();
    caller.abort(new Error('gone'));
    const handler = vi.fn(() => 'x');
    await expect(fallback(handler).execute(() => Promise.reject(caller.signal.reason), { signal: caller.signal, attempt: 1 })).rejects.toThrow('gone');
    expect(handler).not.toHaveBeenCalled();
  });

  it('rejects a non-function handler', () => {
    expect(() => fallback('x' as never)).toThrow(TypeError);
  });
});
