import { createMetricsRegistry } from '../../src/observability/metrics-registry.js';
import type { LoggerLike } from '../../src/observability/logger-like.js';
import type { Registry } from 'prom-client';

/** A clock the test moves by hand. */
export interface ManualClock {
  readonly now: () => number;
  advance(ms: number): void;
}

export function manualClock(start = 1_000): ManualClock {
  let time = start;
  return {
    now: () => time,
    advance: (ms: number) => {
      time += ms;
    },
  };
}

/** A fresh registry per test, so that no test sees another's series. */
export function freshRegistry(): Registry {
  return createMetricsRegistry({ defaultMetrics: false });
}

export interface RecordingLogger extends LoggerLike {
  readonly entries: { level: string; object: object; message: string | undefined }[];
}

export function recordingLogger(): RecordingLogger {
  const entries: RecordingLogger['entries'] = [];
  const at = (level: string) => (object: object, message?: string) => {
    entries.push({ level, object, message });
  };
  return { entries, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

export const succeed = (): Promise<string> => Promise.resolve('ok');
export const fail = (): Promise<never> => Promise.reject(new Error('dependency failed'));

/** Runs `count` calls through `execute`, swallowing rejections. */
export async function calls(execute: (fn: () => Promise<unknown>) => Promise<unknown>, fn: () => Promise<unknown>, count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) await execute(fn).catch(() => undefined);
}

/** The value of one sample line of the Prometheus text format, or undefined. */
export async function sample(registry: Registry, line: string): Promise<number | undefined> {
  const text = await registry.metrics();
  for (const row of text.split('\n')) {
    if (row.startsWith(`${line} `)) return Number(row.slice(line.length + 1));
  }
  return undefined;
}
