import { useState } from 'preact/hooks';
import { admin } from '../api/admin.js';
import type { BreakerSnapshot } from '../api/types.js';
import { ConfirmDialog } from '../ui/confirm-dialog.js';
import { formatDateTime, formatDuration, formatPercent } from '../ui/format.js';
import { PageHead, StateBadge } from '../ui/page.js';
import { ProblemMessage } from '../ui/problem-message.js';
import { DataTable } from '../ui/table.js';
import { useLoad } from '../ui/use-load.js';

interface PendingChange {
  readonly name: string;
  readonly action: 'open' | 'close';
}

/**
 * The circuit breaker of every upstream: state, mode, failures, the sliding window, recent
 * transitions; force one open (requests to that upstream fail fast until it is closed) or close
 * it, each after a confirmation.
 */
export function BreakersPage() {
  const loaded = useLoad(() => admin.breakers(), 'breakers');
  const [pending, setPending] = useState<PendingChange | undefined>(undefined);
  const [message, setMessage] = useState('');
  // Keyed by upstream name, the name the admin API's actions take (the snapshot's own name is `upstream:<name>`).
  const breakers = Object.entries(loaded.value?.breakers ?? {}).sort(([a], [b]) => a.localeCompare(b));

  return (
    <section aria-labelledby="page-title">
      <PageHead title="Breakers" onRefresh={loaded.reload} busy={loaded.state === 'loading'} />
      <p class="muted">One circuit breaker per upstream. Forcing one open makes requests to that upstream fail fast (503) until you close it.</p>
      <p role="status" class="status-message">
        {message}
      </p>
      {loaded.state === 'error' ? <ProblemMessage problem={loaded.problem} /> : null}
      {loaded.value !== undefined && breakers.length === 0 ? <p>No upstream breakers: the configuration has no upstreams.</p> : null}
      {breakers.length === 0 ? null : (
        <DataTable caption="Circuit breakers" columns={['Upstream', 'State', 'Mode', 'Failures', 'Window', 'Recent transitions', { label: 'Actions', hidden: true }]}>
              {breakers.map(([name, breaker]) => (
                <BreakerRow key={name} name={name} breaker={breaker} onChange={(action) => setPending({ name, action })} />
              ))}
        </DataTable>
      )}
      {pending === undefined ? null : (
        <ConfirmDialog
          title={pending.action === 'open' ? `Force breaker ${pending.name} open?` : `Close breaker ${pending.name}?`}
          confirmLabel={pending.action === 'open' ? 'Force open' : 'Close breaker'}
          danger={pending.action === 'open'}
          onConfirm={() => admin.setBreaker(pending.name, pending.action)}
          onCancel={() => setPending(undefined)}
          onDone={(result) => {
            setPending(undefined);
            setMessage(`Breaker ${pending.name} is now ${result.breaker.state}.`);
            loaded.reload();
          }}
        >
          {pending.action === 'open' ? (
            <p>
              Every request to <strong>{pending.name}</strong> will be answered 503 without reaching it, until you close the breaker. The change is written to the audit log.
            </p>
          ) : (
            <p>
              Requests to <strong>{pending.name}</strong> go through again, and the breaker counts failures from zero. The change is written to the audit log.
            </p>
          )}
        </ConfirmDialog>
      )}
    </section>
  );
}

function BreakerRow({ name, breaker, onChange }: { readonly name: string; readonly breaker: BreakerSnapshot; readonly onChange: (action: 'open' | 'close') => void }) {
  const forced = breaker.mode === 'forced-open';
  const transitions = breaker.transitions ?? [];
  return (
    <tr>
      <th scope="row">{name}</th>
      <td>
        <StateBadge state={breaker.state} />
        {breaker.state === 'open' && breaker.retryAfterMs !== undefined && breaker.retryAfterMs > 0 && !forced ? <span class="muted"> probe in {formatDuration(breaker.retryAfterMs)}</span> : null}
      </td>
      <td>{breaker.mode ?? '—'}</td>
      <td>{breaker.failures ?? '—'}</td>
      <td>
        {breaker.window === undefined
          ? '—'
          : `${breaker.window.calls} calls, ${formatPercent(breaker.window.failureRate)} failed, ${formatPercent(breaker.window.slowCallRate)} slow`}
      </td>
      <td>
        {transitions.length === 0 ? (
          <span class="muted">none recorded</span>
        ) : (
          <ul class="transitions">
            {transitions.slice(-5).reverse().map((transition) => (
              <li key={`${transition.at}-${transition.to}`}>
                <time dateTime={transition.at}>{formatDateTime(transition.at)}</time>: {transition.from} → {transition.to}
                {transition.reason === undefined ? null : <span class="muted"> ({transition.reason})</span>}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td class="row-actions">
        {forced || breaker.state !== 'closed' ? (
          <button type="button" class="secondary" onClick={() => onChange('close')} aria-label={`Close breaker ${name}`}>
            Close
          </button>
        ) : null}
        {forced ? null : (
          <button type="button" class="danger-outline" onClick={() => onChange('open')} aria-label={`Force open breaker ${name}`}>
            Force open
          </button>
        )}
      </td>
    </tr>
  );
}
