import { useState } from 'preact/hooks';
import { admin } from '../api/admin.js';
import { errorsFor, localProblem, type Problem } from '../api/problem.js';
import { ConfirmDialog } from '../ui/confirm-dialog.js';
import { TextField } from '../ui/fields.js';
import { PageHead } from '../ui/page.js';
import { ProblemMessage } from '../ui/problem-message.js';

/**
 * Revokes every session of one user (tenant + user id) in the gateway's session store: a stolen
 * cookie or a departed employee. Asks first; the revocation is audited.
 */
export function SessionsPage() {
  const [tenant, setTenant] = useState('');
  const [userId, setUserId] = useState('');
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  const [confirming, setConfirming] = useState<{ readonly tenant: string; readonly userId: string } | undefined>(undefined);
  const [message, setMessage] = useState('');

  const submit = (event: Event): void => {
    event.preventDefault();
    setMessage('');
    const subject = { tenant: tenant.trim(), userId: userId.trim() };
    const missing = [
      ...(subject.tenant === '' ? [{ path: 'tenant', message: 'Enter the tenant.' }] : []),
      ...(subject.userId === '' ? [{ path: 'userId', message: 'Enter the user id.' }] : []),
    ];
    if (missing.length > 0) {
      setProblem(localProblem('Some fields need attention', missing));
      return;
    }
    setProblem(undefined);
    setConfirming(subject);
  };

  return (
    <section aria-labelledby="page-title">
      <PageHead title="Sessions" />
      <p class="muted">Ends every session of one user at once, on every gateway instance: they must sign in again. Use it for a stolen cookie, a lost device or someone who left.</p>
      <form class="panel" onSubmit={submit} noValidate aria-label="Revoke a user's sessions">
        <div class="form-grid">
          <TextField id="sessions-tenant" label="Tenant" value={tenant} onValue={setTenant} required errors={errorsFor(problem, 'tenant')} maxLength={200} />
          <TextField id="sessions-user" label="User id" value={userId} onValue={setUserId} required errors={errorsFor(problem, 'userId')} maxLength={200} />
        </div>
        {problem === undefined ? null : <ProblemMessage problem={problem} fieldErrorsShownElsewhere={['tenant', 'userId']} />}
        <div class="actions">
          <button type="submit" class="danger">
            Revoke sessions
          </button>
        </div>
      </form>
      <p role="status" class="status-message" data-testid="sessions-result">
        {message}
      </p>
      {confirming === undefined ? null : (
        <ConfirmDialog
          title={`Revoke every session of ${confirming.userId}?`}
          confirmLabel="Revoke sessions"
          danger
          onConfirm={() => admin.revokeSessions(confirming.tenant, confirming.userId)}
          onCancel={() => setConfirming(undefined)}
          onDone={(result) => {
            setConfirming(undefined);
            setMessage(result.revoked === 0 ? `${confirming.userId} (${confirming.tenant}) had no active session.` : `Revoked ${result.revoked} session${result.revoked === 1 ? '' : 's'} of ${confirming.userId} (${confirming.tenant}).`);
          }}
        >
          <p>
            User <strong>{confirming.userId}</strong> of tenant <strong>{confirming.tenant}</strong> is signed out everywhere. The revocation is written to the audit log.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
