import type { CircuitBreaker, CircuitState, TransitionReason } from 'bulwark/resilience';
import type { BreakerSet } from '../proxy/breakers.js';

/** One state change of an upstream breaker, as the admin API reports it. */
export interface BreakerTransition {
  /** ISO 8601. */
  readonly at: string;
  readonly from: CircuitState;
  readonly to: CircuitState;
  /** Why it changed, as the breaker says. */
  readonly reason: TransitionReason;
}

/**
 * The recent transitions of every upstream breaker (the last `keep` of each, newest last), for the
 * console's breakers page. Breakers are created and replaced by config reloads, so {@link sync}
 * subscribes to the ones not followed yet and drops the ones gone; it runs at start-up, on every
 * overview sample and on every `GET /admin/breakers`. A breaker replaced by a reload keeps the
 * history of its name.
 */
export interface BreakerTransitions {
  sync(): void;
  of(name: string): readonly BreakerTransition[];
  /** Unsubscribes from every breaker. */
  close(): void;
}

export function createBreakerTransitions(breakers: Pick<BreakerSet, 'entries'>, options: { readonly keep?: number; readonly now?: () => number } = {}): BreakerTransitions {
  const keep = options.keep ?? 20;
  const now = options.now ?? (() => Date.now());
  const followed = new Map<string, { readonly breaker: CircuitBreaker; readonly unsubscribe: () => void }>();
  const history = new Map<string, BreakerTransition[]>();

  return {
    sync() {
      const current = new Map(breakers.entries());
      for (const [name, entry] of followed) {
        if (current.get(name) === entry.breaker) continue;
        entry.unsubscribe();
        followed.delete(name);
        if (!current.has(name)) history.delete(name);
      }
      for (const [name, breaker] of current) {
        if (followed.has(name)) continue;
        const unsubscribe = breaker.on('transition', (event) => {
          const list = history.get(name) ?? [];
          list.push({ at: new Date(now()).toISOString(), from: event.from, to: event.to, reason: event.reason });
          if (list.length > keep) list.splice(0, list.length - keep);
          history.set(name, list);
        });
        followed.set(name, { breaker, unsubscribe });
      }
    },
    of: (name) => history.get(name) ?? [],
    close() {
      for (const entry of followed.values()) entry.unsubscribe();
      followed.clear();
    },
  };
}
