/**
 * Live refresh that lets an unattended console's session end. Every request extends the session's
 * idle timeout on the gateway, so a page that polls for ever would keep a forgotten tab signed in
 * until the absolute timeout. Here polling stops while the tab is hidden, and stops for good after
 * `pauseAfterMs` without user input (pointer, keys, wheel, touch, focus, navigation) until the user
 * resumes it; the gateway then ends the session one idle timeout after the last request.
 */

/**
 * - `live`: refreshing every `intervalMs`;
 * - `hidden`: the tab is hidden, no requests; live again when it shows;
 * - `paused`: the user paused the updates;
 * - `idle`: no input for `pauseAfterMs`; only `resume()` restarts the updates.
 */
export type LiveState = 'live' | 'hidden' | 'paused' | 'idle';

/** What live refresh listens to: `window` and `document` in the browser, plain `EventTarget`s in tests. */
export interface LiveEnvironment {
  /** Where the user's input events arrive (`window`). */
  readonly inputTarget: EventTarget;
  /** Dispatches `visibilitychange` and says whether the page is `hidden` (`document`). */
  readonly visibility: EventTarget & { readonly visibilityState: string };
}

export interface LiveRefreshOptions {
  /**
   * One refresh. The next one is scheduled `intervalMs` after it settles (requests never overlap);
   * the signal aborts when refresh stops. Rejections are ignored: the caller shows its own problems.
   */
  readonly refresh: (signal: AbortSignal) => Promise<void>;
  readonly intervalMs: number;
  /** Without user input for this long, updates stop (`idle`). See {@link pauseAfterMsOf}. */
  readonly pauseAfterMs: number;
  /** Called on every change of state. */
  readonly onState: (state: LiveState) => void;
  /** @default `{ inputTarget: window, visibility: document }` */
  readonly environment?: LiveEnvironment;
}

export interface LiveRefresh {
  readonly state: LiveState;
  /** The user pauses the updates. */
  pause(): void;
  /** The user resumes them (after `pause()` or an idle pause): a refresh at once when one is due. */
  resume(): void;
  /** Stops everything and removes the listeners (the page is left). */
  stop(): void;
}

/** The events that count as someone being there. `focus` is captured, so focusing any control counts. */
export const INPUT_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart', 'focus', 'hashchange'] as const;

/** The idle timeout assumed when the gateway does not say (its default, `console.idleTimeout: 15m`). */
export const DEFAULT_IDLE_TIMEOUT_MS = 15 * 60_000;

/**
 * When live updates stop without input, from the session's idle timeout: a little before it
 * (a quarter of it, one minute at most: 14 min of 15), so the pause comes before the gateway would
 * have ended a session that was not polled.
 */
export function pauseAfterMsOf(idleTimeoutMs: number | undefined): number {
  const idle = idleTimeoutMs !== undefined && Number.isFinite(idleTimeoutMs) && idleTimeoutMs > 0 ? idleTimeoutMs : DEFAULT_IDLE_TIMEOUT_MS;
  return idle - Math.min(60_000, Math.floor(idle / 4));
}

export function createLiveRefresh(options: LiveRefreshOptions): LiveRefresh {
  const { intervalMs, pauseAfterMs } = options;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new TypeError(`intervalMs must be a positive number of milliseconds, got ${intervalMs}`);
  if (!Number.isFinite(pauseAfterMs) || pauseAfterMs <= 0) throw new TypeError(`pauseAfterMs must be a positive number of milliseconds, got ${pauseAfterMs}`);
  const environment = options.environment ?? { inputTarget: window, visibility: document };

  let state: LiveState = 'live';
  let lastInputAt = Date.now();
  let lastRefreshAt = Number.NEGATIVE_INFINITY;
  let tick: ReturnType<typeof setTimeout> | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** The refresh under way, if any. */
  let inFlight: AbortController | undefined;

  const isHidden = (): boolean => environment.visibility.visibilityState === 'hidden';
  const watchesInput = (): boolean => state === 'live' || state === 'hidden';

  const become = (next: LiveState): void => {
    if (next === state) return;
    state = next;
    options.onState(next);
  };

  const clearTick = (): void => {
    clearTimeout(tick);
    tick = undefined;
  };

  const run = async (): Promise<void> => {
    tick = undefined;
    if (state !== 'live') return;
    const mine = new AbortController();
    inFlight = mine;
    lastRefreshAt = Date.now();
    await options.refresh(mine.signal).catch(() => undefined);
    if (inFlight !== mine) return;
    inFlight = undefined;
    if (state === 'live') tick = setTimeout(() => void run(), intervalMs);
  };

  /** No more requests: the timer cleared, the refresh under way aborted. */
  const halt = (next: LiveState): void => {
    clearTick();
    inFlight?.abort();
    inFlight = undefined;
    become(next);
  };

  /** Live (or hidden): the next refresh when it is due, at once after a long enough pause. */
  const start = (): void => {
    if (isHidden()) {
      halt('hidden');
      return;
    }
    become('live');
    if (inFlight !== undefined || tick !== undefined) return;
    tick = setTimeout(() => void run(), Math.max(0, lastRefreshAt + intervalMs - Date.now()));
  };

  // One timer for the idle deadline, re-armed when it fires early (input came meanwhile): input
  // events only record the time, however many of them arrive.
  const checkIdle = (): void => {
    const quietMs = Date.now() - lastInputAt;
    if (quietMs < pauseAfterMs) {
      idleTimer = setTimeout(checkIdle, pauseAfterMs - quietMs);
      return;
    }
    idleTimer = undefined;
    if (watchesInput()) halt('idle');
  };
  const armIdle = (): void => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(checkIdle, Math.max(0, lastInputAt + pauseAfterMs - Date.now()));
  };
  const disarmIdle = (): void => {
    clearTimeout(idleTimer);
    idleTimer = undefined;
  };

  const onInput = (): void => {
    lastInputAt = Date.now();
  };
  const onVisibility = (): void => {
    if (state === 'live' && isHidden()) halt('hidden');
    else if (state === 'hidden' && !isHidden()) start();
  };

  const listening = { capture: true, passive: true } as const;
  for (const type of INPUT_EVENTS) environment.inputTarget.addEventListener(type, onInput, listening);
  environment.visibility.addEventListener('visibilitychange', onVisibility);
  start();
  armIdle();

  return {
    get state() {
      return state;
    },
    pause() {
      disarmIdle();
      halt('paused');
    },
    resume() {
      lastInputAt = Date.now();
      start();
      armIdle();
    },
    stop() {
      for (const type of INPUT_EVENTS) environment.inputTarget.removeEventListener(type, onInput, listening);
      environment.visibility.removeEventListener('visibilitychange', onVisibility);
      disarmIdle();
      clearTick();
      inFlight?.abort();
      inFlight = undefined;
    },
  };
}
