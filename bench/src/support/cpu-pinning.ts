/**
 * CPU pinning for the HTTP benchmarks: the server under test gets a core of its own, and the load
 * generator, the upstream and Redis share the others.
 *
 * Unpinned on a 2-core machine, the kernel moves the server, autocannon, the upstream and Redis
 * between both cores as it sees fit, and a target's requests per second then depend on how that
 * scheduling fell out in its five seconds: the same build measured 1.12× to 1.42× the same peer
 * within ten minutes. With one dedicated core per server, each target is measured on the same
 * budget — one core — and the ratio is the servers' efficiency rather than the scheduler's luck.
 *
 * Needs `taskset` (util-linux) and at least two CPUs; otherwise nothing is pinned and the report
 * says so. `BENCH_PIN=0` turns pinning off.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface CpuPlan {
  /** The CPU the server under test runs on (a `taskset -c` list). */
  readonly server: string;
  /** The CPUs of everything else: this process (the load generator), the upstream, Redis. */
  readonly load: string;
}

/** The plan for this machine, or undefined when pinning is off or impossible. */
export function cpuPlan(): CpuPlan | undefined {
  if (process.env.BENCH_PIN === '0') return undefined;
  const cpus = availableParallelism();
  if (cpus < 2 || spawnSync('taskset', ['--version']).status !== 0) return undefined;
  const last = cpus - 1;
  return { server: String(last), load: last === 1 ? '0' : `0-${last - 1}` };
}

/** The words that run a command on `cpus` (none when `cpus` is undefined). */
export function pinPrefix(cpus: string | undefined): readonly string[] {
  return cpus === undefined ? [] : ['taskset', '-c', cpus];
}

/** `command args` wrapped in `taskset -c cpus` (unchanged when `cpus` is undefined). */
export function pinned(cpus: string | undefined, command: string, args: readonly string[]): [string, string[]] {
  const [first = command, ...rest] = [...pinPrefix(cpus), command, ...args];
  return [first, rest];
}

/** Moves every thread of this process onto `cpus`; false when taskset refused. */
export function pinSelf(cpus: string): boolean {
  return spawnSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/** One sentence for a report: how the processes were placed. */
export function describePlan(plan: CpuPlan | undefined): string {
  return plan === undefined
    ? 'processes not pinned (taskset missing, fewer than 2 CPUs, or BENCH_PIN=0)'
    : `the server under test pinned to CPU ${plan.server}, the load generator, upstream and Redis to CPU ${plan.load} (taskset; BENCH_PIN=0 to turn off)`;
}
