import { useEffect, useRef, useState } from 'preact/hooks';
import { createLiveRefresh, type LiveRefresh, type LiveState } from './live-refresh.js';

export interface LiveRefreshHandle {
  readonly state: LiveState;
  pause(): void;
  resume(): void;
}

/**
 * {@link createLiveRefresh} for a page: starts when the page shows, stops when it goes. `refresh`
 * may change between renders; the latest one runs.
 */
export function useLiveRefresh(refresh: (signal: AbortSignal) => Promise<void>, intervalMs: number, pauseAfterMs: number): LiveRefreshHandle {
  const [state, setState] = useState<LiveState>('live');
  const live = useRef<LiveRefresh | undefined>(undefined);
  const latest = useRef(refresh);
  latest.current = refresh;

  useEffect(() => {
    const created = createLiveRefresh({ refresh: (signal) => latest.current(signal), intervalMs, pauseAfterMs, onState: setState });
    live.current = created;
    setState(created.state);
    return () => {
      created.stop();
      live.current = undefined;
    };
  }, [intervalMs, pauseAfterMs]);

  return {
    state,
    pause: () => live.current?.pause(),
    resume: () => live.current?.resume(),
  };
}
