import { useState } from 'preact/hooks';
import { admin } from '../api/admin.js';
import { errorsFor, localProblem, type Problem } from '../api/problem.js';
import type { LimitInfo, LimitKeyState } from '../api/types.js';
import { ConfirmDialog } from '../ui/confirm-dialog.js';
import { SelectField, TextField } from '../ui/fields.js';
import { formatDuration } from '../ui/format.js';
import { PageHead } from '../ui/page.js';
import { ProblemMessage } from '../ui/problem-message.js';
import { DataTable } from '../ui/table.js';
import { useLoad } from '../ui/use-load.js';
import { DECISION_RESULTS } from '../../../../packages/bulwark/src/ratelimit/decision-results.js';

const RESULT_LABELS: Readonly<Record<string, string>> = {
  ok: 'Allowed',
  limited: 'Limited',
  shadow: 'Shadow (would limit)',
  fallback_allowed: 'Fallback allowed',
  fallback_rejected: 'Fallback limited',
  store_unavailable_allowed: 'Store down, allowed',
  store_unavailable_rejected: 'Store down, refused',
  circuit_open_allowed: 'Store breaker open, allowed',
  circuit_open_rejected: 'Store breaker open, refused',
};

/** Every result any limiter reported, known ones first. */
function resultColumns(limits: readonly LimitInfo[]): string[] {
  const seen = new Set<string>();
  for (const limit of limits) for (const name of Object.keys(limit.decisions ?? {})) seen.add(name);
  return [...DECISION_RESULTS.filter((name) => seen.has(name)), ...[...seen].filter((name) => !(DECISION_RESULTS as readonly string[]).includes(name)).sort()];
}

function policyText(limit: LimitInfo): string {
  if (limit.policy === undefined) return '—';
  return `${limit.policy.limit.toLocaleString()} per ${formatDuration(limit.policy.windowSeconds * 1000)}`;
}

/**
 * The rate limits in use: policy, decisions by result (fallback and shadow activity included), and
 * one key of a limit inspected or reset (its counters forgotten, audited).
 */
export function LimitsPage() {
  const loaded = useLoad(() => admin.limits(), 'limits');
  const limits = loaded.value?.limits ?? [];
  const columns = resultColumns(limits);

  return (
    <section aria-labelledby="page-title">
      <PageHead title="Rate limits" onRefresh={loaded.reload} busy={loaded.state === 'loading'} />
      {loaded.state === 'error' ? <ProblemMessage problem={loaded.problem} /> : null}
      {loaded.value !== undefined && limits.length === 0 ? <p>No rate limits are configured.</p> : null}
      {limits.length === 0 ? null : (
        <>
          <DataTable caption="Rate limits and their decisions since the gateway started" columns={['Limit', 'Policy', ...columns.map((column) => ({ label: RESULT_LABELS[column] ?? column, numeric: true }))]}>
              {limits.map((limit) => (
                <tr key={limit.name}>
                  <th scope="row">
                    {limit.name}
                    {(limit.fallback ?? 0) > 0 ? <span class="badge badge-warn">fallback used</span> : null}
                    {(limit.shadow ?? 0) > 0 ? <span class="badge badge-warn">shadow hits</span> : null}
                  </th>
                  <td>{policyText(limit)}</td>
                  {columns.map((column) => (
                    <td class="numeric" key={column}>
                      {(limit.decisions?.[column] ?? 0).toLocaleString()}
                    </td>
                  ))}
                </tr>
              ))}
          </DataTable>
          {columns.length === 0 ? <p class="hint">This gateway does not report decision counts here; see the ratelimit_* metrics.</p> : null}
        </>
      )}
      {limits.length === 0 ? null : <InspectKey limits={limits} />}
    </section>
  );
}

function InspectKey({ limits }: { readonly limits: readonly LimitInfo[] }) {
  const [name, setName] = useState(limits[0]?.name ?? '');
  const [key, setKey] = useState('');
  const [state, setState] = useState<LimitKeyState | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  const [confirmReset, setConfirmReset] = useState(false);
  const [message, setMessage] = useState('');

  const inspect = async (event: Event): Promise<void> => {
    event.preventDefault();
    setMessage('');
    if (key.trim() === '') {
      setProblem(localProblem('Enter the key to inspect', [{ path: 'key', message: 'Required: for example key:key_abc123 or ip:203.0.113.9.' }]));
      return;
    }
    const result = await admin.inspectLimitKey(name, key.trim());
    if (result.ok) {
      setState(result.value);
      setProblem(undefined);
    } else {
      setState(undefined);
      setProblem(result.problem);
    }
  };

  const options = limits.map((limit) => ({ value: limit.name, label: limit.name }));
  return (
    <section class="panel" aria-labelledby="inspect-title">
      <h2 id="inspect-title">Inspect or reset a key</h2>
      <p class="hint">The key as the limit counts it: <code>key:&lt;key id&gt;</code>, <code>ip:&lt;address&gt;</code>, <code>tenant:&lt;tenant&gt;</code> or <code>header:&lt;value&gt;</code>.</p>
      <form class="inline-form" onSubmit={(event) => void inspect(event)} noValidate>
        <SelectField id="inspect-limit" label="Limit" value={name} options={options} onValue={setName} />
        <TextField id="inspect-key" label="Key" value={key} onValue={setKey} errors={errorsFor(problem, 'key')} placeholder="ip:203.0.113.9" />
        <div class="actions">
          <button type="submit" class="primary">
            Inspect
          </button>
        </div>
      </form>
      {problem === undefined ? null : <ProblemMessage problem={problem} fieldErrorsShownElsewhere={['key']} />}
      <p role="status" class="status-message">
        {message}
      </p>
      {state === undefined ? null : (
        <div class="result" data-testid="limit-key-state">
          <dl class="facts">
            <dt>Limit</dt>
            <dd>{state.limit}</dd>
            <dt>Key</dt>
            <dd>
              <code>{state.key}</code>
            </dd>
            <dt>Remaining</dt>
            <dd>{state.remaining.toLocaleString()}</dd>
            <dt>Full again in</dt>
            <dd>{state.resetMs === 0 ? 'now (nothing counted)' : formatDuration(state.resetMs)}</dd>
            <dt>Store</dt>
            <dd>{state.reason === 'ok' ? 'answered' : state.reason}</dd>
          </dl>
          <button type="button" class="danger-outline" onClick={() => setConfirmReset(true)}>
            Reset this key
          </button>
        </div>
      )}
      {!confirmReset || state === undefined ? null : (
        <ConfirmDialog
          title={`Reset ${state.key} on ${state.limit}?`}
          confirmLabel="Reset key"
          danger
          onConfirm={() => admin.resetLimitKey(state.limit, state.key)}
          onCancel={() => setConfirmReset(false)}
          onDone={() => {
            setConfirmReset(false);
            setState(undefined);
            setMessage(`Reset: ${state.key} starts with a full quota on ${state.limit}.`);
          }}
        >
          <p>What was counted for this key is forgotten: it gets its full quota back at once. The reset is written to the audit log.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
