import type { FunctionComponent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { consoleSession, setAdminPrefix } from './api/admin.js';
import { onAnswer, onSessionEnd, setCsrfToken } from './api/http.js';
import type { Problem } from './api/problem.js';
import type { ConsoleSession } from './api/types.js';
import logoUrl from './assets/favicon.svg';
import { AuditPage } from './pages/audit.js';
import { BreakersPage } from './pages/breakers.js';
import { KeysPage } from './pages/keys.js';
import { LimitsPage } from './pages/limits.js';
import { OverviewPage } from './pages/overview.js';
import { SessionsPage } from './pages/sessions.js';
import { SignIn } from './pages/sign-in.js';
import { hrefOf, PAGES, useRoute, type Route } from './router.js';
import { DEFAULT_IDLE_TIMEOUT_MS } from './live/live-refresh.js';
import { createSessionExpiry } from './live/session-expiry.js';
import { SessionContext } from './session-context.js';
import { formatClock, formatDuration } from './ui/format.js';
import { ProblemMessage } from './ui/problem-message.js';

type AppState =
  | { readonly kind: 'checking' }
  | { readonly kind: 'signed-out'; readonly notice: string | undefined }
  | { readonly kind: 'unavailable'; readonly problem: Problem }
  | { readonly kind: 'signed-in'; readonly session: ConsoleSession; readonly viaSignIn: boolean };

const PAGE_COMPONENTS: Readonly<Record<Route, FunctionComponent>> = {
  overview: OverviewPage,
  breakers: BreakersPage,
  limits: LimitsPage,
  keys: KeysPage,
  sessions: SessionsPage,
  audit: AuditPage,
};

/** Why sign-in is back after a session ended on its own. */
export function sessionEndNotice(expired: boolean, idleTimeoutMs: number): string {
  return expired
    ? `Your session expired after ${formatDuration(idleTimeoutMs)} without activity. Sign in again to continue.`
    : 'Your session has ended. Sign in again to continue.';
}

/** The API calls follow the session: its CSRF token, and where its gateway keeps the admin API. */
function adopt(session: ConsoleSession | undefined): void {
  setCsrfToken(session?.csrfToken);
  setAdminPrefix(session?.adminPrefix);
}

/**
 * The console: asks the gateway whether this browser has a session, shows sign-in when not, else
 * the navigation and the page of the hash route. Any 401 from the gateway (session expired or
 * revoked, signed out in another tab) brings sign-in back, and so does a session that expired while
 * the page made no requests (live/session-expiry.ts), saying why.
 */
export function App() {
  const [state, setState] = useState<AppState>({ kind: 'checking' });
  const session = state.kind === 'signed-in' ? state.session : undefined;
  const idleTimeoutMs = session?.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;

  useEffect(() => {
    const controller = new AbortController();
    void consoleSession.current(controller.signal).then(
      (result) => {
        if (result.ok) {
          adopt(result.value);
          setState({ kind: 'signed-in', session: result.value, viaSignIn: false });
        } else if (result.problem.status === 401) setState({ kind: 'signed-out', notice: undefined });
        else setState({ kind: 'unavailable', problem: result.problem });
      },
      () => undefined,
    );
    return () => controller.abort();
  }, []);

  // While signed in: a 401 ends the session here too; so does the gateway ending it for want of requests.
  useEffect(() => {
    if (session === undefined) return undefined;
    const ended = (expired: boolean): void => {
      adopt(undefined);
      setState({ kind: 'signed-out', notice: sessionEndNotice(expired, idleTimeoutMs) });
    };
    const watch = createSessionExpiry({
      idleTimeoutMs,
      check: async () => {
        const result = await consoleSession.current();
        return result.ok ? 'alive' : result.problem.status === 401 ? 'ended' : 'unknown';
      },
      onEnded: () => ended(true),
    });
    const unsubscribeAnswers = onAnswer(() => watch.answered());
    const unsubscribeEnd = onSessionEnd(() => ended(watch.idleExpired()));
    return () => {
      watch.stop();
      unsubscribeAnswers();
      unsubscribeEnd();
    };
  }, [session, idleTimeoutMs]);

  const signedIn = (signedInSession: ConsoleSession): void => {
    adopt(signedInSession);
    setState({ kind: 'signed-in', session: signedInSession, viaSignIn: true });
  };

  const signOut = async (): Promise<void> => {
    await consoleSession.signOut();
    adopt(undefined);
    setState({ kind: 'signed-out', notice: 'Signed out.' });
  };

  switch (state.kind) {
    case 'checking':
      return (
        <main id="main" class="sign-in" aria-busy="true">
          <p role="status">Loading the console…</p>
        </main>
      );
    case 'unavailable':
      return (
        <main id="main" class="sign-in">
          <h1>Bulwark console</h1>
          <ProblemMessage problem={state.problem} />
          <button type="button" class="primary" onClick={() => window.location.reload()}>
            Try again
          </button>
        </main>
      );
    case 'signed-out':
      return <SignIn onSignedIn={signedIn} notice={state.notice} />;
    case 'signed-in':
      return <Shell session={state.session} focusHeading={state.viaSignIn} onSignOut={() => void signOut()} />;
  }
}

/**
 * The signed-in layout. `focusHeading`: focus the page's heading at once (after sign-in, whose form
 * just disappeared); on a page load, focus stays at the top of the document.
 */
function Shell({ session, focusHeading, onSignOut }: { readonly session: ConsoleSession; readonly focusHeading: boolean; readonly onSignOut: () => void }) {
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const skipFocus = useRef(!focusHeading);
  const page = PAGES.find((candidate) => candidate.route === route);
  const Page = PAGE_COMPONENTS[route];

  // The link's own navigation would change the hash route: it moves focus instead.
  const skipToContent = (event: Event): void => {
    event.preventDefault();
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  };

  useEffect(() => {
    document.title = `${page?.label ?? 'Console'} · Bulwark console`;
    // After a navigation, focus moves to the page's heading so a screen reader announces it.
    if (skipFocus.current) skipFocus.current = false;
    else main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route, page]);

  return (
    <div class="shell">
      <a class="skip-link" href="#main" onClick={skipToContent}>
        Skip to content
      </a>
      <header class="top">
        <p class="brand">
          <img src={logoUrl} alt="" width={24} height={24} />
          Bulwark console
        </p>
        <nav aria-label="Console">
          <ul>
            {PAGES.map((candidate) => (
              <li key={candidate.route}>
                <a href={hrefOf(candidate.route)} aria-current={candidate.route === route ? 'page' : undefined}>
                  {candidate.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="account">
          <span class="who" title={`Session ends by ${formatClock(session.absoluteExpiresAt)} at the latest`}>
            Key <code>{session.keyId}</code>
          </span>
          <button type="button" class="secondary" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <SessionContext.Provider value={session}>
          <Page key={route} />
        </SessionContext.Provider>
      </main>
    </div>
  );
}
