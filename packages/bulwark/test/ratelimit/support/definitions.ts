import { buildDefinition } from '../../../src/ratelimit/limit-definition.js';
import type { LimitDefinition, StoreAlgorithm, StoreFailurePolicy } from '../../../src/ratelimit/types.js';

/** A limit definition for store-level tests (limiters build theirs from validated options). */
export function limitOf(
  algorithm: StoreAlgorithm,
  limit: number,
  windowMs: number,
  options: { prefix?: string; burst?: number; onStoreFailure?: StoreFailurePolicy; blocking?: boolean; expectedInstances?: number } = {},
): LimitDefinition {
  const prefix = options.prefix ?? `t-${algorithm}`;
  return buildDefinition({
    name: prefix,
    prefix,
    algorithm,
    limit,
    windowMs,
    burst: options.burst ?? limit,
    onStoreFailure: options.onStoreFailure ?? 'closed',
    blocking: options.blocking ?? true,
    expectedInstances: options.expectedInstances ?? 1,
  });
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void; set: (ms: number) => void } {
  let current = start;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
    set: (ms) => {
      current = ms;
    },
  };
}

/** A logger that records what it was told. */
export function recordingLogger(): { logger: { error: (o: object, m?: string) => void; warn: (o: object, m?: string) => void; info: (o: object, m?: string) => void; debug: (o: object, m?: string) => void }; lines: { level: string; object: object; message: string }[] } {
  const lines: { level: string; object: object; message: string }[] = [];
  const at = (level: string) => (object: object, message = '') => {
    lines.push({ level, object, message });
  };
  return { logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') }, lines };
}
