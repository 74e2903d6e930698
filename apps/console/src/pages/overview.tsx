import { useContext, useState } from 'preact/hooks';
import { admin } from '../api/admin.js';
import type { Problem } from '../api/problem.js';
import type { Overview, OverviewSample } from '../api/types.js';
import { formatClock, formatDuration, formatRate } from '../ui/format.js';
import { PageHead } from '../ui/page.js';
import { ProblemMessage } from '../ui/problem-message.js';
import { type LiveState, pauseAfterMsOf } from '../live/live-refresh.js';
import { useLiveRefresh } from '../live/use-live-refresh.js';
import { SessionContext } from '../session-context.js';
import { TimeChart } from '../ui/time-chart.js';

/** How often the overview asks the gateway for new samples. */
export const REFRESH_MS = 5000;
/** How many samples the gateway keeps: the charts span that many intervals. */
const KEPT_SAMPLES = 60;

const perSecond = (value: number | null): string => (value === null ? '—' : `${formatRate(value)}/s`);
const milliseconds = (value: number | null): string => (value === null || !Number.isFinite(value) ? '—' : `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`);
const counted = (value: number, noun: string): string => `${value.toLocaleString()} ${noun}${value === 1 ? '' : 's'}`;
const count = (value: number | null): string => (value === null ? '—' : String(Math.round(value)));

interface Series {
  readonly times: number[];
  readonly requestRate: (number | null)[];
  readonly errorRate: (number | null)[];
  readonly p99Ms: (number | null)[];
  readonly rejectionRate: (number | null)[];
  readonly openBreakers: (number | null)[];
}

function seconds(at: string): number {
  return Date.parse(at) / 1000;
}

/** The samples as uPlot columns. */
export function seriesOf(samples: readonly OverviewSample[]): Series {
  const ordered = [...samples].sort((a, b) => seconds(a.at) - seconds(b.at));
  return {
    times: ordered.map((sample) => seconds(sample.at)),
    requestRate: ordered.map((sample) => sample.requestRate),
    errorRate: ordered.map((sample) => sample.errorRate),
    p99Ms: ordered.map((sample) => sample.p99Ms),
    rejectionRate: ordered.map((sample) => sample.rejectionRate),
    openBreakers: ordered.map((sample) => sample.openBreakers),
  };
}

/** What the overview says about its updates. */
export function liveNote(state: LiveState, pauseAfterMs: number): string {
  switch (state) {
    case 'live':
      return '';
    case 'hidden':
      return 'Live updates wait while this tab is hidden.';
    case 'paused':
      return 'Live updates paused.';
    case 'idle':
      return `Live updates paused after ${formatDuration(pauseAfterMs)} without activity, so that an unattended console lets its session end. Resume updates to continue.`;
  }
}

/**
 * Request rate, error rate, p99 latency, rate-limit rejections and open breakers: small live charts
 * from the gateway's own metrics (`GET /admin/overview`), refreshed every 5 s while the tab is
 * visible and someone is there (see live/live-refresh.ts). Updates can be paused (moving content
 * must be stoppable).
 */
export function OverviewPage() {
  const session = useContext(SessionContext);
  const [overview, setOverview] = useState<Overview | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  const [updatedAt, setUpdatedAt] = useState<number | undefined>(undefined);
  const pauseAfterMs = pauseAfterMsOf(session?.idleTimeoutMs);

  const live = useLiveRefresh(
    async (signal) => {
      const result = await admin.overview(signal);
      if (signal.aborted) return;
      if (result.ok) {
        setOverview(result.value);
        setProblem(undefined);
        setUpdatedAt(Date.now());
      } else setProblem(result.problem);
    },
    REFRESH_MS,
    pauseAfterMs,
  );
  const running = live.state === 'live' || live.state === 'hidden';

  const series = seriesOf(overview?.samples ?? []);
  const totals = overview?.now;
  const span = ((overview?.intervalMs ?? REFRESH_MS) * KEPT_SAMPLES) / 1000;
  return (
    <section aria-labelledby="page-title">
      <PageHead title="Overview">
        {/* Not a live region: announcing the time every 5 s would drown a screen reader. */}
        <p class="muted">
          {updatedAt === undefined ? (running ? 'Loading…' : 'Not loaded.') : running ? `Updated ${formatClock(updatedAt)}, every ${formatDuration(REFRESH_MS)}.` : `Last updated ${formatClock(updatedAt)}.`}
        </p>
        {/* The label says what the button does; it changes, so it is not also a toggle (aria-pressed). */}
        <button type="button" class="secondary" onClick={running ? live.pause : live.resume}>
          {running ? 'Pause updates' : 'Resume updates'}
        </button>
      </PageHead>
      <p class="notice live-note" role="status" data-testid="live-note">
        {liveNote(live.state, pauseAfterMs)}
      </p>
      {problem === undefined ? null : <ProblemMessage problem={problem} />}
      {overview !== undefined && overview.samples.length < 2 ? (
        <p class="muted">The charts fill in as the gateway takes samples (one every {formatDuration(overview.intervalMs)}).</p>
      ) : null}
      <div class="charts">
        <TimeChart title="Requests" spanSeconds={span} times={series.times} values={series.requestRate} format={perSecond} />
        <TimeChart title="Errors (5xx)" spanSeconds={span} times={series.times} values={series.errorRate} format={perSecond} warning />
        <TimeChart title="p99 latency" spanSeconds={span} times={series.times} values={series.p99Ms} format={milliseconds} />
        <TimeChart title="Rate-limit rejections" spanSeconds={span} times={series.times} values={series.rejectionRate} format={perSecond} />
        <TimeChart title="Open breakers" spanSeconds={span} times={series.times} values={series.openBreakers} format={count} warning />
      </div>
      {totals === undefined ? null : (
        <p class="muted" data-testid="overview-totals">
          Since the gateway started: {counted(totals.requests, 'request')}, {counted(totals.errors, 'error')} (5xx), {counted(totals.rejections, 'rejection')}.{' '}
          {totals.openBreakers === 0 ? (
            totals.breakers === 0 ? 'No upstream breakers.' : totals.breakers === 1 ? 'Its breaker is closed.' : `All ${totals.breakers} breakers closed.`
          ) : (
            <strong class="warning-text">
              {totals.openBreakers} of {totals.breakers} breakers open: <a href="#/breakers">see breakers</a>.
            </strong>
          )}
        </p>
      )}
    </section>
  );
}
