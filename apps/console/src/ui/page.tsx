import type { ComponentChildren } from 'preact';

/** A page's heading (focused after navigation) with an optional refresh button and tools. */
export function PageHead({ title, onRefresh, busy = false, children }: { readonly title: string; readonly onRefresh?: () => void; readonly busy?: boolean; readonly children?: ComponentChildren }) {
  return (
    <div class="page-head">
      <h1 id="page-title" tabIndex={-1}>
        {title}
      </h1>
      <div class="page-tools">
        {children}
        {onRefresh === undefined ? null : (
          <button type="button" class="secondary" onClick={onRefresh} disabled={busy} aria-busy={busy ? 'true' : undefined}>
            {busy ? 'Loading…' : 'Refresh'}
          </button>
        )}
      </div>
    </div>
  );
}

const TONES: Readonly<Record<string, 'good' | 'warn' | 'bad' | 'neutral'>> = {
  closed: 'good',
  active: 'good',
  success: 'good',
  'half-open': 'warn',
  rotating: 'warn',
  denied: 'warn',
  open: 'bad',
  revoked: 'bad',
  failure: 'bad',
  expired: 'neutral',
};

/** A state in words with a colour (the word carries the meaning; the colour only helps). */
export function StateBadge({ state }: { readonly state: string }) {
  return <span class={`badge badge-${TONES[state] ?? 'neutral'}`}>{state}</span>;
}
