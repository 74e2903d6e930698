import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkMarginMsOf, createSessionExpiry, type SessionCheck, type SessionExpiry } from './session-expiry.js';

const IDLE_MS = 15 * 60_000;
const MARGIN_MS = checkMarginMsOf(IDLE_MS);

let checks: number;
let ended: number;
let answer: SessionCheck;
let watch: SessionExpiry | undefined;

function start(check?: () => Promise<SessionCheck>): SessionExpiry {
  watch = createSessionExpiry({
    idleTimeoutMs: IDLE_MS,
    check:
      check ??
      (async () => {
        checks += 1;
        return answer;
      }),
    onEnded: () => {
      ended += 1;
    },
  });
  return watch;
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2025-01-01T12:00:00Z') });
  checks = 0;
  ended = 0;
  answer = 'ended';
});
afterEach(() => {
  watch?.stop();
  watch = undefined;
  vi.useRealTimers();
});

describe('createSessionExpiry', () => {
  it('asks once the idle timeout and its margin have passed since the last answer, and reports the end', async () => {
    const expiry = start();
    await vi.advanceTimersByTimeAsync(IDLE_MS + MARGIN_MS - 1);
    expect(checks).toBe(0);
    expect(expiry.idleExpired()).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(checks).toBe(1);
    expect(ended).toBe(1);
  });

  it('does not ask while the page keeps making requests', async () => {
    const expiry = start();
    for (let i = 0; i < 10; i += 1) {
      await vi.advanceTimersByTimeAsync(IDLE_MS - 1000);
      expiry.answered();
      expect(expiry.idleExpired()).toBe(false);
    }
    expect(checks).toBe(0);
    await vi.advanceTimersByTimeAsync(IDLE_MS + MARGIN_MS);
    expect(checks).toBe(1);
  });

  it('asks only once when the session is still there (kept by another tab): its own question does not re-arm it', async () => {
    answer = 'alive';
    const expiry = start(async () => {
      checks += 1;
      // The question is answered like any request of the page.
      expiry.answered();
      return answer;
    });
    await vi.advanceTimersByTimeAsync(IDLE_MS * 10);
    expect(checks).toBe(1);
    expect(ended).toBe(0);
    // A request of the page's own starts the watch again.
    expiry.answered();
    answer = 'ended';
    await vi.advanceTimersByTimeAsync(IDLE_MS + MARGIN_MS);
    expect(checks).toBe(2);
    expect(ended).toBe(1);
  });

  it('asks again later when the gateway did not answer', async () => {
    answer = 'unknown';
    start();
    await vi.advanceTimersByTimeAsync(IDLE_MS + MARGIN_MS);
    expect(checks).toBe(1);
    answer = 'ended';
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    expect(checks).toBe(2);
    expect(ended).toBe(1);
  });

  it('treats a failed check as no answer', async () => {
    start(async () => {
      checks += 1;
      throw new Error('offline');
    });
    await vi.advanceTimersByTimeAsync(IDLE_MS + MARGIN_MS);
    expect(checks).toBe(1);
    expect(ended).toBe(0);
  });

  it('does nothing once stopped', async () => {
    start().stop();
    await vi.advanceTimersByTimeAsync(IDLE_MS * 3);
    expect(checks).toBe(0);
    expect(ended).toBe(0);
  });

  it('keeps the margin proportionate for short idle timeouts', () => {
    expect(checkMarginMsOf(15 * 60_000)).toBe(2000);
    expect(checkMarginMsOf(2000)).toBe(500);
    expect(() => createSessionExpiry({ idleTimeoutMs: 0, check: async () => 'alive', onEnded: () => undefined })).toThrow(/idleTimeoutMs/);
  });
});
