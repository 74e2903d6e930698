/**
 * Reference models of the three algorithms for the property tests, written from the definitions
 * rather than from the implementation: exact rational arithmetic with BigInt, explicit request logs,
 * and retry times found by searching forward in time instead of by formula.
 */

export interface ReferenceLimit {
  readonly limit: number;
  readonly windowMs: number;
  readonly burst: number;
  /** Emission interval in µs (the implementation's rounding, part of the definition). */
  readonly emissionUs: number;
}

export interface ReferenceModel {
  /** Would a request of `cost` be allowed at `nowMs`? */
  allows(nowMs: number, cost: number): boolean;
  /** Records an allowed request. */
  record(nowMs: number, cost: number): void;
  /** Units that could be spent right now. */
  remaining(nowMs: number): number;
}

/** A token bucket of `burst` tokens refilled one per emission interval, tracked as a deficit in µs. */
export function tokenBucket(spec: ReferenceLimit): ReferenceModel {
  const capacity = BigInt(spec.burst) * BigInt(spec.emissionUs);
  let deficit = 0n; // µs of refill needed to be full
  let at = 0n;
  const deficitAt = (nowMs: number): bigint => {
    const now = BigInt(nowMs) * 1000n;
    const elapsed = now > at ? now - at : 0n;
    return deficit > elapsed ? deficit - elapsed : 0n;
  };
  return {
    allows: (nowMs, cost) => deficitAt(nowMs) + BigInt(cost) * BigInt(spec.emissionUs) <= capacity,
    record(nowMs, cost) {
      const current = deficitAt(nowMs);
      at = BigInt(nowMs) * 1000n > at ? BigInt(nowMs) * 1000n : at;
      deficit = current + BigInt(cost) * BigInt(spec.emissionUs);
    },
    remaining: (nowMs) => Number((capacity - deficitAt(nowMs)) / BigInt(spec.emissionUs)),
  };
}

/** Counts per aligned window. */
export function fixedWindowModel(spec: ReferenceLimit): ReferenceModel {
  const counts = new Map<number, number>();
  const windowOf = (nowMs: number): number => Math.floor(nowMs / spec.windowMs);
  return {
    allows: (nowMs, cost) => (counts.get(windowOf(nowMs)) ?? 0) + cost <= spec.limit,
    record(nowMs, cost) {
      counts.set(windowOf(nowMs), (counts.get(windowOf(nowMs)) ?? 0) + cost);
    },
    remaining: (nowMs) => spec.limit - (counts.get(windowOf(nowMs)) ?? 0),
  };
}

/**
 * The sliding-window estimate, from a log of every recorded request: the previous aligned window's
 * total weighted by its overlap with the window ending now, plus the current window's total.
 * Compared as exact fractions.
 */
export function slidingWindowModel(spec: ReferenceLimit): ReferenceModel {
  const log: { at: number; cost: number }[] = [];
  const W = BigInt(spec.windowMs);
  /** The estimate times W, exactly. */
  const scaledEstimate = (nowMs: number): bigint => {
    const start = Math.floor(nowMs / spec.windowMs) * spec.windowMs;
    let current = 0n;
    let previous = 0n;
    for (const entry of log) {
      if (entry.at >= start && entry.at < start + spec.windowMs) current += BigInt(entry.cost);
      else if (entry.at >= start - spec.windowMs && entry.at < start) previous += BigInt(entry.cost);
    }
    return previous * (W - BigInt(nowMs - start)) + current * W;
  };
  return {
    allows: (nowMs, cost) => scaledEstimate(nowMs) + BigInt(cost) * W <= BigInt(spec.limit) * W,
    record(nowMs, cost) {
      log.push({ at: nowMs, cost });
    },
    remaining: (nowMs) => {
      const free = BigInt(spec.limit) * W - scaledEstimate(nowMs);
      return free <= 0n ? 0 : Number(free / W);
    },
  };
}

/**
 * The first whole millisecond at or after `fromMs` where `holds` is true, searching up to
 * `horizonMs` ahead; the predicates used are monotone in time (once true, true while nothing else
 * is recorded), so a binary search suffices.
 */
export function firstTimeWhere(holds: (atMs: number) => boolean, fromMs: number, horizonMs: number): number | undefined {
  if (holds(fromMs)) return fromMs;
  let low = fromMs;
  let high = fromMs + horizonMs;
  if (!holds(high)) return undefined;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (holds(middle)) high = middle;
    else low = middle;
  }
  return high;
}
