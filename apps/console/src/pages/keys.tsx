import { useState } from 'preact/hooks';
import { admin } from '../api/admin.js';
import type { ApiKeyRecord, CreatedApiKey } from '../api/types.js';
import { ConfirmDialog } from '../ui/confirm-dialog.js';
import { SelectField, TextField } from '../ui/fields.js';
import { formatDateTime, formatDuration, formatRelative, keyStatus } from '../ui/format.js';
import { PageHead, StateBadge } from '../ui/page.js';
import { Pager, useCursorPages } from '../ui/pager.js';
import { ProblemMessage } from '../ui/problem-message.js';
import { DataTable } from '../ui/table.js';
import { useLoad } from '../ui/use-load.js';
import { CreateKeyForm, SecretOnce } from './key-create.js';

const PAGE_SIZE = 50;

const GRACE_OPTIONS = [
  { value: '0', label: 'None: the old key stops now' },
  { value: '3600000', label: '1 hour' },
  { value: '86400000', label: '24 hours' },
  { value: '604800000', label: '7 days' },
  { value: '2592000000', label: '30 days' },
] as const;
type Grace = (typeof GRACE_OPTIONS)[number]['value'];

type Pending = { readonly kind: 'rotate'; readonly record: ApiKeyRecord } | { readonly kind: 'revoke'; readonly record: ApiKeyRecord };

/**
 * API keys: the list (tenant, scopes, expiry, last use, status) with a tenant filter and pages by
 * cursor; create (the key shown once), rotate with a grace period, revoke after a confirmation.
 */
export function KeysPage() {
  const [tenant, setTenant] = useState('');
  const [includeRevoked, setIncludeRevoked] = useState(false);
  const [applied, setApplied] = useState({ tenant: '', includeRevoked: false });
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const loaded = useLoad(
    () => admin.keys({ ...(applied.tenant === '' ? {} : { tenant: applied.tenant }), includeRevoked: applied.includeRevoked, ...(cursor === undefined ? {} : { cursor }), limit: PAGE_SIZE }),
    `${applied.tenant}|${String(applied.includeRevoked)}|${cursor ?? ''}`,
  );
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ readonly created: CreatedApiKey; readonly action: 'created' | 'rotated' } | undefined>(undefined);
  const [pending, setPending] = useState<Pending | undefined>(undefined);
  const [grace, setGrace] = useState<Grace>('86400000');
  const [message, setMessage] = useState('');
  const nowMs = Date.now();
  const records = loaded.value?.records ?? [];

  const filter = (event: Event): void => {
    event.preventDefault();
    setApplied({ tenant: tenant.trim(), includeRevoked });
    pages.reset();
  };

  return (
    <section aria-labelledby="page-title">
      <PageHead title="API keys" onRefresh={loaded.reload} busy={loaded.state === 'loading'}>
        {creating ? null : (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Create key
          </button>
        )}
      </PageHead>
      {secret === undefined ? null : <SecretOnce created={secret.created} action={secret.action} onDone={() => setSecret(undefined)} />}
      {creating ? (
        <CreateKeyForm
          onCancel={() => setCreating(false)}
          onCreated={(created) => {
            setCreating(false);
            setSecret({ created, action: 'created' });
            loaded.reload();
          }}
        />
      ) : null}
      <p role="status" class="status-message">
        {message}
      </p>
      <form class="inline-form filters" onSubmit={filter} aria-label="Filter keys">
        <TextField id="keys-tenant" label="Tenant" value={tenant} onValue={setTenant} placeholder="all tenants" />
        <div class="field checkbox">
          <input id="keys-revoked" type="checkbox" checked={includeRevoked} onChange={(event) => setIncludeRevoked(event.currentTarget.checked)} />
          <label for="keys-revoked">Include revoked keys</label>
        </div>
        <div class="actions">
          <button type="submit" class="secondary">
            Apply filters
          </button>
        </div>
      </form>
      {loaded.state === 'error' ? <ProblemMessage problem={loaded.problem} /> : null}
      {loaded.value !== undefined && records.length === 0 ? <p>No keys match.</p> : null}
      {records.length === 0 ? null : (
        <DataTable className="keys" caption="API keys" columns={['Name', 'Tenant', 'Scopes', 'Expires', 'Last used', 'Status', { label: 'Actions', hidden: true }]}>
              {records.map((record) => {
                const status = keyStatus(record, nowMs);
                return (
                  <tr key={record.id} data-key-id={record.id}>
                    <th scope="row">
                      {record.name}
                      <br />
                      <code class="muted">{record.displayPrefix}…</code> <code class="muted">{record.id}</code>
                      {record.signingAlgorithm === null ? null : <span class="badge badge-neutral">signs {record.signingAlgorithm}</span>}
                    </th>
                    <td>{record.tenant}</td>
                    <td>{record.scopes.length === 0 ? <span class="muted">none</span> : record.scopes.map((scope) => <code class="scope" key={scope}>{scope}</code>)}</td>
                    <td>{record.expiresAt === null ? <span class="muted">never</span> : <time dateTime={record.expiresAt}>{formatDateTime(record.expiresAt)}</time>}</td>
                    <td>{record.lastUsedAt === null ? <span class="muted">never</span> : <time dateTime={record.lastUsedAt} title={formatDateTime(record.lastUsedAt)}>{formatRelative(record.lastUsedAt, nowMs)}</time>}</td>
                    <td>
                      <StateBadge state={status} />
                      {status === 'rotating' && record.graceUntil !== null ? <span class="muted"> until {formatDateTime(record.graceUntil)}</span> : null}
                    </td>
                    <td class="row-actions">
                      {status === 'active' ? (
                        <button type="button" class="secondary" onClick={() => setPending({ kind: 'rotate', record })} aria-label={`Rotate key ${record.name} (${record.id})`}>
                          Rotate
                        </button>
                      ) : null}
                      {status === 'active' || status === 'rotating' ? (
                        <button type="button" class="danger-outline" onClick={() => setPending({ kind: 'revoke', record })} aria-label={`Revoke key ${record.name} (${record.id})`}>
                          Revoke
                        </button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
        </DataTable>
      )}
      <Pager label="Key pages" pages={pages} nextCursor={loaded.value?.nextCursor} backLabel="Previous page" forwardLabel="Next page" />
      {pending?.kind === 'revoke' ? (
        <ConfirmDialog
          title={`Revoke key ${pending.record.name}?`}
          confirmLabel="Revoke key"
          danger
          onConfirm={() => admin.revokeKey(pending.record.id)}
          onCancel={() => setPending(undefined)}
          onDone={(result) => {
            setPending(undefined);
            setMessage(`Revoked ${result.revokedIds.join(', ')}. Every gateway instance refuses ${result.revokedIds.length === 1 ? 'it' : 'them'} within a second.`);
            loaded.reload();
          }}
        >
          <p>
            <code>{pending.record.id}</code> (tenant {pending.record.tenant}) stops working on every gateway instance within a second, and so does any key it replaced that is still in its grace period. This cannot be undone.
          </p>
        </ConfirmDialog>
      ) : null}
      {pending?.kind === 'rotate' ? (
        <ConfirmDialog
          title={`Rotate key ${pending.record.name}?`}
          confirmLabel="Rotate key"
          onConfirm={() => admin.rotateKey(pending.record.id, Number(grace))}
          onCancel={() => setPending(undefined)}
          onDone={(created) => {
            setPending(undefined);
            setSecret({ created, action: 'rotated' });
            loaded.reload();
          }}
        >
          <p>A new key replaces <code>{pending.record.id}</code> with the same tenant, scopes and limits. The old key keeps working during the grace period, so clients can switch.</p>
          <SelectField id="rotate-grace" label="Grace period for the old key" value={grace} options={GRACE_OPTIONS} onValue={setGrace} hint={`Default 24 h; at most ${formatDuration(30 * 86_400_000)}.`} />
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
