import type { LoggerLike } from './logger-like.js';

/** Distinct failure messages remembered, so a failure repeated on every request is not logged on every request. */
const REMEMBERED_FAILURES = 100;
const failureCounts = new Map<string, number>();

/**
 * Runs `update` (a metric update) so that its failure can never affect the call it measures: an
 * exception (a label mismatch, a registry conflict) is caught and logged at `warn`. A failure that
 * repeats is logged the 1st, 10th, 100th, 1000th… time, with its count, rather than every time.
 *
 * @example
 * safeMetric(() => rejected.inc({ limiter: name }), logger);
 */
export function safeMetric(update: () => void, logger?: LoggerLike): void {
  try {
    update();
  } catch (error) {
    if (logger === undefined) return;
    try {
      const message = error instanceof Error ? error.message : String(error);
      const occurrences = (failureCounts.get(message) ?? 0) + 1;
      if (failureCounts.size >= REMEMBERED_FAILURES && !failureCounts.has(message)) failureCounts.clear();
      failureCounts.set(message, occurrences);
      if (isPowerOfTen(occurrences)) logger.warn({ err: error, occurrences }, 'metric update failed');
    } catch {
      // A logger that throws must not undo the guarantee either.
    }
  }
}

function isPowerOfTen(value: number): boolean {
  let remaining = value;
  while (remaining >= 10 && remaining % 10 === 0) remaining /= 10;
  return remaining === 1;
}
