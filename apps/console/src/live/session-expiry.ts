/**
 * Notices that the console's session ended on the gateway for want of requests, without waiting
 * for the user's next click: one idle timeout after the last answer (plus a margin for the time the
 * answer took to arrive), the page asks the gateway once whether the session is still there. When it
 * is not, the page returns to sign-in — an unattended screen does not keep showing admin data.
 *
 * The question is a request too, and moves the idle deadline of a session that is still there (kept
 * alive by another tab): so it is asked once, and asked again only after a request of the page's own.
 */

/** What the gateway says about the session: there, gone, or no answer (unreachable, unavailable). */
export type SessionCheck = 'alive' | 'ended' | 'unknown';

export interface SessionExpiryOptions {
  /** `console.idleTimeout`, from the session answer. */
  readonly idleTimeoutMs: number;
  /** Asks the gateway for the session (`GET <console.path>/api/session`). */
  readonly check: () => Promise<SessionCheck>;
  /** The session is gone. */
  readonly onEnded: () => void;
}

export interface SessionExpiry {
  /** A request of the page was answered: the gateway moved the session's idle deadline. */
  answered(): void;
  /** Whether an idle timeout has passed since the last answer: a 401 now means the session expired. */
  idleExpired(): boolean;
  stop(): void;
}

/** Room for the answer's way back (the gateway's deadline is set before the page sees the answer). */
export function checkMarginMsOf(idleTimeoutMs: number): number {
  return Math.min(2000, Math.floor(idleTimeoutMs / 4));
}

export function createSessionExpiry(options: SessionExpiryOptions): SessionExpiry {
  const { idleTimeoutMs } = options;
  if (!Number.isFinite(idleTimeoutMs) || idleTimeoutMs <= 0) throw new TypeError(`idleTimeoutMs must be a positive number of milliseconds, got ${idleTimeoutMs}`);
  const marginMs = checkMarginMsOf(idleTimeoutMs);
  let lastAnswerAt = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let checking = false;
  let stopped = false;

  const arm = (delayMs: number): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void check(), delayMs);
  };

  const check = async (): Promise<void> => {
    timer = undefined;
    checking = true;
    const result = await options.check().catch((): SessionCheck => 'unknown');
    checking = false;
    if (stopped) return;
    if (result === 'ended') options.onEnded();
    // No answer: the deadline did not move; ask again later. An answer that found the session
    // there moved it: no more questions until the page makes a request of its own.
    else if (result === 'unknown') arm(idleTimeoutMs);
  };

  arm(idleTimeoutMs + marginMs);

  return {
    answered() {
      // The check's own answer arrives while it is under way: it does not re-arm the check.
      if (checking || stopped) return;
      lastAnswerAt = Date.now();
      arm(idleTimeoutMs + marginMs);
    },
    idleExpired: () => Date.now() - lastAnswerAt >= idleTimeoutMs,
    stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
