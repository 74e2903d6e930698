import { useEffect, useRef, useState } from 'preact/hooks';
import { admin } from '../api/admin.js';
import { errorsFor, localProblem, type Problem } from '../api/problem.js';
import type { CreatedApiKey } from '../api/types.js';
import { CopyButton } from '../ui/copy-button.js';
import { describedBy, FieldFrame, SelectField, TextField } from '../ui/fields.js';
import { formatDateTime } from '../ui/format.js';
import { ProblemMessage } from '../ui/problem-message.js';
import { EMPTY_DRAFT, inputOf, WINDOWS, type Draft } from './key-draft.js';

const FIELDS = ['name', 'tenant', 'scopes', 'env', 'expiresAt', 'limits', 'signing'] as const;

/** The form that creates a key: name, tenant, scopes, environment, expiry, per-key limits, signing. */
export function CreateKeyForm({ onCreated, onCancel }: { readonly onCreated: (created: CreatedApiKey) => void; readonly onCancel: () => void }) {
  const [draft, setDraft] = useState<Draft>(EMPTY_DRAFT);
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const nextRow = useRef(1);
  const heading = useRef<HTMLHeadingElement>(null);
  const edit = (change: Partial<Draft>): void => setDraft((current) => ({ ...current, ...change }));

  useEffect(() => {
    heading.current?.focus();
  }, []);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (busy) return;
    const built = inputOf(draft, Date.now());
    if (!built.ok) {
      setProblem(localProblem('Some fields need attention', built.errors));
      return;
    }
    setBusy(true);
    const result = await admin.createKey(built.input);
    setBusy(false);
    if (result.ok) onCreated(result.value);
    else setProblem(result.problem);
  };

  const limitErrors = errorsFor(problem, 'limits');
  return (
    <section class="panel" aria-labelledby="create-title">
      <h2 id="create-title" ref={heading} tabIndex={-1}>
        Create an API key
      </h2>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <div class="form-grid">
          <TextField id="key-name" label="Name" value={draft.name} onValue={(name) => edit({ name })} required errors={errorsFor(problem, 'name')} maxLength={200} hint="What uses the key, e.g. billing-service." />
          <TextField id="key-tenant" label="Tenant" value={draft.tenant} onValue={(tenant) => edit({ tenant })} required errors={errorsFor(problem, 'tenant')} maxLength={200} />
          <TextField id="key-scopes" label="Scopes" value={draft.scopes} onValue={(scopes) => edit({ scopes })} errors={errorsFor(problem, 'scopes')} hint="Separated by spaces or commas: orders:read orders:* (admin for the admin API). None: the key reaches only routes that need no scope." />
          <SelectField id="key-env" label="Environment" value={draft.env} options={[{ value: 'live', label: 'live (bw_live_…)' }, { value: 'test', label: 'test (bw_test_…)' }]} onValue={(env) => edit({ env })} errors={errorsFor(problem, 'env')} />
          <TextField id="key-expires" label="Expires (optional)" type="datetime-local" value={draft.expires} onValue={(expires) => edit({ expires })} errors={errorsFor(problem, 'expiresAt')} hint="Your local time. Empty: the key does not expire." />
          <SelectField
            id="key-signing"
            label="Request signing"
            value={draft.signing}
            options={[
              { value: 'none', label: 'No: an API key only' },
              { value: 'hmac-sha256', label: 'HMAC-SHA256 (a secret is generated)' },
              { value: 'ed25519', label: 'Ed25519 (you give the public key)' },
            ]}
            onValue={(signing) => edit({ signing })}
            errors={draft.signing === 'ed25519' ? [] : errorsFor(problem, 'signing')}
          />
          {draft.signing === 'ed25519' ? (
            <FieldFrame id="key-public-key" label="Ed25519 public key" errors={errorsFor(problem, 'signing')} hint="Raw 32 bytes base64url, or an SPKI PEM.">
              <textarea id="key-public-key" rows={3} value={draft.publicKey} spellcheck={false} aria-describedby={describedBy('key-public-key', 'hint', errorsFor(problem, 'signing'))} onInput={(event) => edit({ publicKey: event.currentTarget.value })} />
            </FieldFrame>
          ) : null}
        </div>
        <fieldset class="limits">
          <legend>Per-key rate limits (optional)</legend>
          {draft.limits.length === 0 ? <p class="hint">None: only the route limits apply.</p> : null}
          {draft.limits.map((row, index) => (
            <div class="limit-row" key={row.id}>
              <TextField
                id={`key-limit-${row.id}`}
                label={`Limit ${index + 1}: requests`}
                type="number"
                min={1}
                value={row.limit}
                onValue={(limit) => edit({ limits: draft.limits.map((candidate) => (candidate.id === row.id ? { ...candidate, limit } : candidate)) })}
                errors={errorsFor(problem, `limits.${index}`)}
              />
              <SelectField
                id={`key-window-${row.id}`}
                label={
                  <>
                    <span class="visually-hidden">Limit {index + 1}: </span>per
                  </>
                }
                value={row.windowMs}
                options={WINDOWS}
                onValue={(windowMs) => edit({ limits: draft.limits.map((candidate) => (candidate.id === row.id ? { ...candidate, windowMs } : candidate)) })}
              />
              <button type="button" class="secondary" onClick={() => edit({ limits: draft.limits.filter((candidate) => candidate.id !== row.id) })} aria-label={`Remove limit ${index + 1}`}>
                Remove
              </button>
            </div>
          ))}
          {limitErrors.some((error) => error.path === 'limits') ? <p class="field-error">{limitErrors.find((error) => error.path === 'limits')?.message}</p> : null}
          {draft.limits.length >= 10 ? null : (
            <button type="button" class="secondary" onClick={() => edit({ limits: [...draft.limits, { id: nextRow.current++, limit: '100', windowMs: '60000' }] })}>
              Add a limit
            </button>
          )}
        </fieldset>
        {problem === undefined ? null : <ProblemMessage problem={problem} fieldErrorsShownElsewhere={FIELDS} />}
        <div class="actions">
          <button type="button" class="secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy} aria-busy={busy ? 'true' : undefined}>
            {busy ? 'Creating…' : 'Create key'}
          </button>
        </div>
      </form>
    </section>
  );
}

/**
 * The new key (and signing secret), shown this once: the gateway stores only a hash, so it cannot
 * show it again. Focus lands on the panel so it is read first.
 */
export function SecretOnce({ created, action, onDone }: { readonly created: CreatedApiKey; readonly action: 'created' | 'rotated'; readonly onDone: () => void }) {
  const panel = useRef<HTMLElement>(null);
  useEffect(() => {
    panel.current?.focus();
  }, []);
  const { record } = created;
  return (
    <section class="panel secret" ref={panel} tabIndex={-1} aria-labelledby="secret-title" data-testid="secret-once">
      <h2 id="secret-title">
        Key {action} for {record.tenant}: {record.name}
      </h2>
      <p class="warning-text">
        <strong>Copy it now. You will not see it again:</strong> the gateway keeps only a hash of it.
      </p>
      <p class="secret-value">
        <code id="secret-key">{created.key}</code> <CopyButton text={created.key} label="Copy API key" sourceId="secret-key" />
      </p>
      {created.signingSecret === undefined ? null : (
        <>
          <p>Signing secret (HMAC-SHA256, base64url):</p>
          <p class="secret-value">
            <code id="secret-signing">{created.signingSecret}</code> <CopyButton text={created.signingSecret} label="Copy signing secret" sourceId="secret-signing" />
          </p>
        </>
      )}
      <p class="muted">
        Id <code>{record.id}</code>
        {record.expiresAt === null ? '' : `, expires ${formatDateTime(record.expiresAt)}`}
        {created.previous?.graceUntil === undefined || created.previous.graceUntil === null ? '' : `. The old key works until ${formatDateTime(created.previous.graceUntil)}.`}
      </p>
      <button type="button" class="primary" onClick={onDone}>
        I have stored it
      </button>
    </section>
  );
}
