import { useState } from 'preact/hooks';

/** Pages by cursor: the cursors of the pages walked so far (`undefined` is the first page). */
export interface CursorPages {
  /** The cursor of the page shown. */
  readonly cursor: string | undefined;
  /** 1 for the first page. */
  readonly number: number;
  back(): void;
  forward(nextCursor: string): void;
  /** Back to the first page (the filters changed). */
  reset(): void;
}

export function useCursorPages(): CursorPages {
  const [cursors, setCursors] = useState<readonly (string | undefined)[]>([undefined]);
  return {
    cursor: cursors[cursors.length - 1],
    number: cursors.length,
    back: () => setCursors((current) => (current.length > 1 ? current.slice(0, -1) : current)),
    forward: (nextCursor) => setCursors((current) => [...current, nextCursor]),
    reset: () => setCursors([undefined]),
  };
}

/** Previous / next buttons for pages by cursor; "next" is off on the last page (no `nextCursor`). */
export function Pager({ label, pages, nextCursor, backLabel, forwardLabel }: { readonly label: string; readonly pages: CursorPages; readonly nextCursor: string | undefined; readonly backLabel: string; readonly forwardLabel: string }) {
  return (
    <nav class="pager" aria-label={label}>
      <button type="button" class="secondary" disabled={pages.number === 1} onClick={pages.back}>
        {backLabel}
      </button>
      <span class="muted">Page {pages.number}</span>
      <button type="button" class="secondary" disabled={nextCursor === undefined} onClick={() => nextCursor !== undefined && pages.forward(nextCursor)}>
        {forwardLabel}
      </button>
    </nav>
  );
}
