import { useState } from 'preact/hooks';
import { admin } from '../api/admin.js';
import { errorsFor, type Problem } from '../api/problem.js';
import type { AuditOutcome, AuditQuery, AuditVerifyResult } from '../api/types.js';
import { SelectField, TextField } from '../ui/fields.js';
import { formatDateTime, localInputToIso } from '../ui/format.js';
import { PageHead, StateBadge } from '../ui/page.js';
import { Pager, useCursorPages } from '../ui/pager.js';
import { ProblemMessage } from '../ui/problem-message.js';
import { DataTable } from '../ui/table.js';
import { useLoad } from '../ui/use-load.js';

const PAGE_SIZE = 50;

interface Filters {
  readonly action: string;
  readonly actor: string;
  readonly target: string;
  readonly outcome: AuditOutcome | '';
  readonly since: string;
  readonly until: string;
}

const NO_FILTERS: Filters = { action: '', actor: '', target: '', outcome: '', since: '', until: '' };

const BREAK_REASONS: Readonly<Record<string, string>> = {
  hash_mismatch: 'its content does not match its hash: it was edited after it was written',
  prev_mismatch: 'it does not follow the entry before it: entries were edited or re-ordered',
  missing_entry: 'it is missing: entries were deleted',
};

/** The filters as the admin API's query (times as ISO 8601). */
export function queryOf(filters: Filters, cursor: string | undefined): AuditQuery {
  const since = localInputToIso(filters.since);
  const until = localInputToIso(filters.until);
  return {
    ...(filters.action.trim() === '' ? {} : { action: filters.action.trim() }),
    ...(filters.actor.trim() === '' ? {} : { actor: filters.actor.trim() }),
    ...(filters.target.trim() === '' ? {} : { target: filters.target.trim() }),
    ...(filters.outcome === '' ? {} : { outcome: filters.outcome }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    ...(cursor === undefined ? {} : { cursor }),
    limit: PAGE_SIZE,
  };
}

/**
 * The tamper-evident audit log: newest first, filtered by action, actor, target, outcome and time,
 * paged by cursor; "Verify chain" re-computes every hash and says plainly where the chain breaks.
 */
export function AuditPage() {
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const pages = useCursorPages();
  const loaded = useLoad(() => admin.audit(queryOf(filters, pages.cursor)), `${JSON.stringify(filters)}|${pages.cursor ?? ''}`);
  const [verify, setVerify] = useState<{ readonly state: 'idle' | 'running' } | { readonly state: 'done'; readonly result: AuditVerifyResult } | { readonly state: 'failed'; readonly problem: Problem }>({ state: 'idle' });
  const edit = (change: Partial<Filters>): void => setDraft((current) => ({ ...current, ...change }));
  const entries = loaded.value?.entries ?? [];
  const problem = loaded.state === 'error' ? loaded.problem : undefined;

  const apply = (event: Event): void => {
    event.preventDefault();
    setFilters(draft);
    pages.reset();
  };

  const runVerify = async (): Promise<void> => {
    setVerify({ state: 'running' });
    const result = await admin.verifyAudit();
    setVerify(result.ok ? { state: 'done', result: result.value } : { state: 'failed', problem: result.problem });
  };

  return (
    <section aria-labelledby="page-title">
      <PageHead title="Audit log" onRefresh={loaded.reload} busy={loaded.state === 'loading'}>
        <button type="button" class="primary" onClick={() => void runVerify()} disabled={verify.state === 'running'} aria-busy={verify.state === 'running' ? 'true' : undefined}>
          {verify.state === 'running' ? 'Verifying…' : 'Verify chain'}
        </button>
      </PageHead>
      <VerifyOutcome verify={verify} />
      <form class="inline-form filters" onSubmit={apply} aria-label="Filter the audit log" noValidate>
        <TextField id="audit-action" label="Action" value={draft.action} onValue={(action) => edit({ action })} placeholder="api_key.create" errors={errorsFor(problem, 'action')} />
        <TextField id="audit-actor" label="Actor" value={draft.actor} onValue={(actor) => edit({ actor })} placeholder="key id" errors={errorsFor(problem, 'actor')} />
        <TextField id="audit-target" label="Target" value={draft.target} onValue={(target) => edit({ target })} errors={errorsFor(problem, 'target')} />
        <SelectField
          id="audit-outcome"
          label="Outcome"
          value={draft.outcome}
          options={[
            { value: '', label: 'any' },
            { value: 'success', label: 'success' },
            { value: 'failure', label: 'failure' },
            { value: 'denied', label: 'denied' },
          ]}
          onValue={(outcome) => edit({ outcome })}
          errors={errorsFor(problem, 'outcome')}
        />
        <TextField id="audit-since" label="Since" type="datetime-local" value={draft.since} onValue={(since) => edit({ since })} errors={errorsFor(problem, 'since')} />
        <TextField id="audit-until" label="Until" type="datetime-local" value={draft.until} onValue={(until) => edit({ until })} errors={errorsFor(problem, 'until')} />
        <div class="actions">
          <button type="submit" class="secondary">
            Apply filters
          </button>
          <button
            type="button"
            class="link"
            onClick={() => {
              setDraft(NO_FILTERS);
              setFilters(NO_FILTERS);
              pages.reset();
            }}
          >
            Clear filters
          </button>
        </div>
      </form>
      {problem === undefined ? null : <ProblemMessage problem={problem} fieldErrorsShownElsewhere={['action', 'actor', 'target', 'outcome', 'since', 'until']} />}
      {loaded.value !== undefined && entries.length === 0 ? <p>No entries match.</p> : null}
      {entries.length === 0 ? null : (
        <DataTable className="audit" caption="Audit entries, newest first" columns={[{ label: '#', numeric: true }, 'Time', 'Actor', 'Action', 'Target', 'Outcome', 'Details']}>
              {entries.map((entry) => (
                <tr key={entry.id} data-action={entry.action}>
                  <th scope="row" class="numeric">
                    {entry.id}
                  </th>
                  <td>
                    <time dateTime={entry.at}>{formatDateTime(entry.at, { seconds: true })}</time>
                  </td>
                  <td>
                    <code>{entry.actor}</code>
                  </td>
                  <td>
                    <code>{entry.action}</code>
                  </td>
                  <td>{entry.target === null ? <span class="muted">—</span> : <code>{entry.target}</code>}</td>
                  <td>
                    <StateBadge state={entry.outcome} />
                  </td>
                  <td>
                    <details>
                      <summary>
                        More<span class="visually-hidden"> about entry {entry.id}</span>
                      </summary>
                      <dl class="facts">
                        <dt>Request id</dt>
                        <dd>{entry.requestId === null ? '—' : <code>{entry.requestId}</code>}</dd>
                        <dt>Client</dt>
                        <dd>{entry.clientIp ?? '—'}</dd>
                        <dt>Input</dt>
                        <dd>{entry.input === null ? '—' : <code class="wrap">{JSON.stringify(entry.input)}</code>}</dd>
                      </dl>
                    </details>
                  </td>
                </tr>
              ))}
        </DataTable>
      )}
      <Pager label="Audit pages" pages={pages} nextCursor={loaded.value?.nextCursor} backLabel="Newer entries" forwardLabel="Older entries" />
    </section>
  );
}

function VerifyOutcome({ verify }: { readonly verify: { readonly state: 'idle' | 'running' } | { readonly state: 'done'; readonly result: AuditVerifyResult } | { readonly state: 'failed'; readonly problem: Problem } }) {
  if (verify.state === 'failed') return <ProblemMessage problem={verify.problem} />;
  if (verify.state !== 'done') return null;
  const { result } = verify;
  if (result.ok)
    return (
      <p class="verified" role="status" data-testid="audit-verified">
        Chain intact: all {result.count.toLocaleString()} entries verified.
      </p>
    );
  return (
    <div class="broken-chain" role="alert" data-testid="audit-broken">
      <h2>The audit chain is broken at entry #{result.brokenAt}</h2>
      <p>Entry #{result.brokenAt}: {BREAK_REASONS[result.reason] ?? result.reason}.</p>
      <p>
        Entries from #{result.brokenAt} on cannot be trusted as written. Keep the database as it is (take a copy), compare with your off-site anchor of the chain head, and treat it as a security incident.
      </p>
    </div>
  );
}
