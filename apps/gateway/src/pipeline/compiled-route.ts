import type { ResolvedRoute } from '../config/resolve.js';
import type { Exchange } from './exchange.js';

/** Returned by a stage that answered the request itself (a preflight, a redirect). */
export const HANDLED = Symbol('handled');
export type StageOutcome = undefined | typeof HANDLED;

/**
 * One step of the pipeline. It either returns (the next stage runs), returns {@link HANDLED} (the
 * response is complete), or throws an `ApiError` (answered as a problem). Synchronous stages return
 * a plain value, so a route whose stages are all synchronous never allocates a promise for them.
 */
export type Stage = (exchange: Exchange) => StageOutcome | Promise<StageOutcome>;

/** The final step: sends the request on and streams the answer back. */
export type Terminal = (exchange: Exchange) => Promise<void>;

/** A route with everything it needs built once at start-up. */
export interface CompiledRoute {
  readonly name: string;
  readonly config: ResolvedRoute;
  /** The stages up to validation, in the order of the pipeline; only those the route needs. */
  readonly stages: readonly Stage[];
  readonly terminal: Terminal;
  /** Request headers holding the credential the route consumed: never forwarded. */
  readonly consumedHeaders: ReadonlySet<string>;
}
