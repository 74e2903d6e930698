import { useEffect, useRef, useState } from 'preact/hooks';
import { consoleSession } from '../api/admin.js';
import { localProblem, type Problem } from '../api/problem.js';
import type { ConsoleSession } from '../api/types.js';
import { formatClock, formatDuration } from '../ui/format.js';
import { ProblemMessage, RequestId } from '../ui/problem-message.js';

export interface SignInProps {
  readonly onSignedIn: (session: ConsoleSession) => void;
  /** Why the sign-in page is shown (`Signed out.`, `Your session has ended…`). */
  readonly notice: string | undefined;
}

/**
 * Sign-in with an admin API key. The gateway answers every wrong key with the same problem, so the
 * page shows the same message each time; after repeated failures it locks sign-in and says until
 * when. The key goes to the gateway once and is cleared from the field: the session is a cookie the
 * page cannot read.
 */
export function SignIn({ onSignedIn, notice }: SignInProps) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  const [lockedUntilMs, setLockedUntilMs] = useState<number | undefined>(undefined);
  const field = useRef<HTMLInputElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    heading.current?.focus();
  }, []);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (busy) return;
    const typed = key.trim();
    if (typed === '') {
      setProblem(localProblem('Enter an admin API key', [], 'It starts with bw_ and has the admin scope.'));
      field.current?.focus();
      return;
    }
    setBusy(true);
    const result = await consoleSession.signIn(typed);
    setBusy(false);
    if (result.ok) {
      setKey('');
      onSignedIn(result.value);
      return;
    }
    setProblem(result.problem);
    setLockedUntilMs(result.problem.status === 429 && result.problem.retryAfterSeconds !== undefined ? Date.now() + result.problem.retryAfterSeconds * 1000 : undefined);
    field.current?.select();
  };

  const locked = problem?.status === 429;
  return (
    <main id="main" class="sign-in">
      <div class="sign-in-card">
        <h1 ref={heading} tabIndex={-1}>
          Bulwark console
        </h1>
        <p class="lead">Sign in with an admin API key (a key with the admin scope).</p>
        {notice === undefined ? null : (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        <form onSubmit={(event) => void submit(event)} noValidate>
          <div class={problem === undefined ? 'field' : 'field field-invalid'}>
            <label for="sign-in-key">Admin API key</label>
            <input
              ref={field}
              id="sign-in-key"
              name="key"
              type="password"
              value={key}
              autoComplete="off"
              spellcheck={false}
              required
              aria-describedby="sign-in-key-hint"
              aria-invalid={problem === undefined ? undefined : 'true'}
              onInput={(event) => setKey(event.currentTarget.value)}
            />
            <p class="hint" id="sign-in-key-hint">
              Sent once to start a session; the console does not keep it.
            </p>
          </div>
          {problem === undefined ? null : locked ? <LockedMessage problem={problem} untilMs={lockedUntilMs} /> : <ProblemMessage problem={problem} />}
          <div class="actions">
            <button type="submit" class="primary" disabled={busy} aria-busy={busy ? 'true' : undefined}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
          </div>
        </form>
        <p class="hint">
          No admin key yet? <code>bulwark keys create --name ops --tenant ops --scope admin</code> prints one.
        </p>
      </div>
    </main>
  );
}

function LockedMessage({ problem, untilMs }: { readonly problem: Problem; readonly untilMs: number | undefined }) {
  return (
    <div class="problem" role="alert" data-testid="lockout">
      <p class="problem-title">Sign-in is locked after too many failed attempts.</p>
      <p class="problem-detail">
        {untilMs === undefined || problem.retryAfterSeconds === undefined
          ? 'Try again later.'
          : `Try again at ${formatClock(untilMs)} (in ${formatDuration(problem.retryAfterSeconds * 1000)}).`}
      </p>
      <RequestId problem={problem} />
    </div>
  );
}
