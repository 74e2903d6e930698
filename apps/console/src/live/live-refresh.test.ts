import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLiveRefresh, pauseAfterMsOf, type LiveRefresh, type LiveState } from './live-refresh.js';

/** `document` as live refresh sees it: an event target whose visibility the test sets. */
class FakeDocument extends EventTarget {
  visibilityState: 'visible' | 'hidden' = 'visible';
  show(state: 'visible' | 'hidden'): void {
    this.visibilityState = state;
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

const INTERVAL_MS = 5000;
const PAUSE_AFTER_MS = 14 * 60_000;

let input: EventTarget;
let visibility: FakeDocument;
let refreshes: number;
let states: LiveState[];
let live: LiveRefresh | undefined;

function start(options: { readonly pauseAfterMs?: number; readonly refresh?: (signal: AbortSignal) => Promise<void> } = {}): LiveRefresh {
  live = createLiveRefresh({
    refresh:
      options.refresh ??
      (async () => {
        refreshes += 1;
      }),
    intervalMs: INTERVAL_MS,
    pauseAfterMs: options.pauseAfterMs ?? PAUSE_AFTER_MS,
    onState: (state) => states.push(state),
    environment: { inputTarget: input, visibility },
  });
  return live;
}

/** Someone moves the mouse or presses a key. */
const touch = (type = 'pointermove'): boolean => input.dispatchEvent(new Event(type));

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2025-01-01T12:00:00Z') });
  input = new EventTarget();
  visibility = new FakeDocument();
  refreshes = 0;
  states = [];
});
afterEach(() => {
  live?.stop();
  live = undefined;
  vi.useRealTimers();
});

describe('createLiveRefresh', () => {
  it('refreshes at once and then every interval while someone is there', async () => {
    start();
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshes).toBe(1);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 3);
    expect(refreshes).toBe(4);
    expect(live?.state).toBe('live');
  });

  it('stops after pauseAfterMs without input, and stays stopped whatever the input, until resumed', async () => {
    start();
    await vi.advanceTimersByTimeAsync(PAUSE_AFTER_MS - 1);
    expect(live?.state).toBe('live');
    const before = refreshes;
    await vi.advanceTimersByTimeAsync(1);
    expect(live?.state).toBe('idle');
    expect(states).toEqual(['idle']);

    // An hour open and unattended: not one request more.
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(refreshes).toBe(before);
    // Coming back does not restart the requests by itself: the user resumes them.
    touch('keydown');
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 2);
    expect(refreshes).toBe(before);

    live?.resume();
    await vi.advanceTimersByTimeAsync(0);
    expect(live?.state).toBe('live');
    expect(refreshes).toBe(before + 1);
    // And the idle clock starts again from the resume.
    await vi.advanceTimersByTimeAsync(PAUSE_AFTER_MS);
    expect(live?.state).toBe('idle');
  });

  it('keeps refreshing while input keeps coming, each kind of input counting', async () => {
    start();
    for (const type of ['pointermove', 'pointerdown', 'keydown', 'wheel', 'touchstart', 'focus', 'hashchange']) {
      await vi.advanceTimersByTimeAsync(PAUSE_AFTER_MS - 1000);
      touch(type);
    }
    expect(live?.state).toBe('live');
    await vi.advanceTimersByTimeAsync(PAUSE_AFTER_MS - 1);
    expect(live?.state).toBe('live');
    await vi.advanceTimersByTimeAsync(1);
    expect(live?.state).toBe('idle');
  });

  it('makes no request while the tab is hidden, and refreshes when it shows again if one is due', async () => {
    start();
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshes).toBe(1);
    visibility.show('hidden');
    expect(live?.state).toBe('hidden');
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 10);
    expect(refreshes).toBe(1);

    visibility.show('visible');
    expect(live?.state).toBe('live');
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshes).toBe(2);
    expect(states).toEqual(['hidden', 'live']);
  });

  it('waits out the rest of the interval when the tab was hidden only briefly', async () => {
    start();
    await vi.advanceTimersByTimeAsync(1000);
    visibility.show('hidden');
    await vi.advanceTimersByTimeAsync(1000);
    visibility.show('visible');
    await vi.advanceTimersByTimeAsync(INTERVAL_MS - 2001);
    expect(refreshes).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(refreshes).toBe(2);
  });

  it('starts hidden in a background tab, and a tab hidden past pauseAfterMs comes back paused', async () => {
    visibility.visibilityState = 'hidden';
    start();
    expect(live?.state).toBe('hidden');
    await vi.advanceTimersByTimeAsync(PAUSE_AFTER_MS);
    expect(live?.state).toBe('idle');
    visibility.show('visible');
    expect(live?.state).toBe('idle');
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(refreshes).toBe(0);
  });

  it('pauses and resumes on request, resuming into hidden when the tab is hidden', async () => {
    start();
    await vi.advanceTimersByTimeAsync(0);
    live?.pause();
    expect(live?.state).toBe('paused');
    await vi.advanceTimersByTimeAsync(PAUSE_AFTER_MS * 2);
    expect(refreshes).toBe(1);
    expect(live?.state).toBe('paused');
    visibility.show('hidden');
    live?.resume();
    expect(live?.state).toBe('hidden');
    visibility.show('visible');
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshes).toBe(2);
  });

  it('never overlaps requests: the next waits for the slow answer, and stopping aborts it', async () => {
    const signals: AbortSignal[] = [];
    start({
      refresh: (signal) => {
        refreshes += 1;
        signals.push(signal);
        return new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 3));
      },
    });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 3 - 1);
    expect(refreshes).toBe(1);
    await vi.advanceTimersByTimeAsync(1 + INTERVAL_MS);
    expect(refreshes).toBe(2);
    live?.stop();
    expect(signals.map((signal) => signal.aborted)).toEqual([false, true]);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 10);
    expect(refreshes).toBe(2);
  });

  it('keeps going after a failed refresh', async () => {
    start({
      refresh: async () => {
        refreshes += 1;
        throw new Error('gateway down');
      },
    });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 2);
    expect(refreshes).toBe(3);
  });

  it('removes its listeners when stopped', async () => {
    start();
    live?.stop();
    visibility.show('hidden');
    visibility.show('visible');
    await vi.advanceTimersByTimeAsync(PAUSE_AFTER_MS * 2);
    expect(states).toEqual([]);
    expect(refreshes).toBe(0);
  });

  it('refuses intervals that are not positive', () => {
    expect(() => createLiveRefresh({ refresh: async () => undefined, intervalMs: 0, pauseAfterMs: 1000, onState: () => undefined, environment: { inputTarget: input, visibility } })).toThrow(/intervalMs/);
    expect(() => createLiveRefresh({ refresh: async () => undefined, intervalMs: 1000, pauseAfterMs: Number.NaN, onState: () => undefined, environment: { inputTarget: input, visibility } })).toThrow(/pauseAfterMs/);
  });
});

describe('pauseAfterMsOf', () => {
  it('pauses a little before the session idle timeout: a minute before 15 min, a quarter before a short one', () => {
    expect(pauseAfterMsOf(15 * 60_000)).toBe(14 * 60_000);
    expect(pauseAfterMsOf(2000)).toBe(1500);
    expect(pauseAfterMsOf(undefined)).toBe(14 * 60_000);
    expect(pauseAfterMsOf(-5)).toBe(14 * 60_000);
  });
});
