import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { Bench } from 'tinybench';

const require = createRequire(import.meta.url);

/** One line naming the machine, for the header of every result section. */
export function machineLine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
}

/**
 * The installed version of an npm package, read from its package.json — also for packages whose
 * `exports` hide it (connect-redis, structured-headers): then the manifest above the entry is read.
 */
export function versionOf(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    // `exports` does not list package.json: walk up from the entry point.
  }
  try {
    for (let directory = dirname(require.resolve(name)); directory !== dirname(directory); directory = dirname(directory)) {
      const file = join(directory, 'package.json');
      if (!existsSync(file)) continue;
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === name) return manifest.version ?? 'unknown';
    }
  } catch {
    // not installed, or not resolvable from here
  }
  return 'unknown';
}

/** The installed redis-server's version, as `redis-server --version` prints it. */
export function redisServerVersion(): string {
  return spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.split(' ')[2]?.replace('v=', '') ?? 'unknown';
}

export interface Row {
  readonly name: string;
  readonly opsPerSecond: number;
  readonly p99Microseconds?: number;
  readonly note?: string;
}

/**
 * Runs synchronous or asynchronous tasks with tinybench (warm-up, then `timeMs` each) and returns a
 * row per task. Ratios are what count: absolute figures drift from machine to machine.
 */
export async function measure(tasks: Record<string, () => unknown>, timeMs = 1500): Promise<Row[]> {
  const bench = new Bench({ time: timeMs, warmupTime: 300 });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  return bench.tasks.map((task) => {
    // tinybench 2.x (the last line that supports Node 20) reports `hz` and `p99` in milliseconds.
    const result = task.result as { hz?: number; p99?: number } | undefined;
    const opsPerSecond = result?.hz ?? 0;
    const p99 = result?.p99;
    return p99 === undefined ? { name: task.name, opsPerSecond } : { name: task.name, opsPerSecond, p99Microseconds: p99 * 1000 };
  });
}

/** Formats rows as a markdown table with each row's ratio against `baseline` (a row name). */
export function table(rows: readonly Row[], baseline: string): string {
  const base = rows.find((row) => row.name === baseline)?.opsPerSecond ?? Number.NaN;
  const lines = ['| task | ops/s | ratio vs ' + baseline + ' | note |', '|---|---:|---:|---|'];
  for (const row of rows) {
    lines.push(`| ${row.name} | ${formatOps(row.opsPerSecond)} | ${(row.opsPerSecond / base).toFixed(2)}x | ${row.note ?? ''} |`);
  }
  return lines.join('\n');
}

export function formatOps(opsPerSecond: number): string {
  if (opsPerSecond >= 1e6) return `${(opsPerSecond / 1e6).toFixed(2)} M`;
  if (opsPerSecond >= 1e3) return `${(opsPerSecond / 1e3).toFixed(1)} k`;
  return opsPerSecond.toFixed(0);
}

export interface CpuPerCallOptions {
  /** How many calls one task invocation makes (the task loops itself). */
  readonly batch: number;
  /** Interleaved rounds; the best (lowest CPU) round of each task is kept. */
  readonly rounds: number;
  /** CPU milliseconds each task gets per round. */
  readonly targetCpuMs: number;
  /** Calibration runs at least this many task invocations. @default 10 */
  readonly minCalls?: number;
  /** Calls measured per round never drop below this many task invocations. @default 1 */
  readonly minInvocations?: number;
  /** How the per-call cost is written in the note. @default 'ns' */
  readonly unit?: 'ns' | 'µs';
  /** What one call is, for the note (`ns/decision`). @default 'call' */
  readonly callName?: string;
}

function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

/**
 * Per-call CPU cost of each task, best of `rounds` interleaved rounds. On a machine shared with
 * other jobs, process CPU time repeats within a few per cent where wall-clock throughput swings by
 * half, so the benchmarks that measure a per-call cost use this rather than tinybench's wall clock.
 */
export async function measureCpuPerCall(tasks: Record<string, () => unknown>, options: CpuPerCallOptions): Promise<Row[]> {
  const entries = Object.entries(tasks);
  const invocations = new Map<string, number>();
  for (const [name, task] of entries) {
    const start = process.cpuUsage();
    let count = 0;
    while (count < (options.minCalls ?? 10) || cpuMsSince(start) < 100) {
      await task();
      count += 1;
    }
    invocations.set(name, Math.max(options.minInvocations ?? 1, Math.round((count * options.targetCpuMs) / cpuMsSince(start))));
  }
  const best = new Map<string, number>();
  for (let round = 0; round < options.rounds; round += 1) {
    for (const [name, task] of entries) {
      const count = invocations.get(name) ?? options.minInvocations ?? 1;
      const start = process.cpuUsage();
      for (let i = 0; i < count; i += 1) await task();
      const nsPerCall = (cpuMsSince(start) * 1e6) / (count * options.batch);
      best.set(name, Math.min(best.get(name) ?? Number.POSITIVE_INFINITY, nsPerCall));
    }
  }
  return entries.map(([name]) => {
    const ns = best.get(name) ?? Number.NaN;
    const per = options.callName ?? 'call';
    const note = options.unit === 'µs' ? `${(ns / 1000).toFixed(2)} µs/${per}` : `${ns.toFixed(0)} ns/${per}`;
    return { name, opsPerSecond: 1e9 / ns, note };
  });
}
