import type { ChildProcess } from 'node:child_process';

/**
 * Every child process this test worker started, so that none outlives it. Suites stop their
 * children by pid in `afterAll`; this is the last resort when a worker dies between a start and
 * its `afterAll` (a crashed hook, a timeout): on exit, whatever is still running gets SIGKILL.
 */
const running = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  running.clear();
}

/** Registers a child to be killed if the worker exits while it runs. */
export function track(child: ChildProcess): void {
  if (!hooked) {
    hooked = true;
    process.once('exit', killAll);
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** How a child ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Resolves when the child has exited (at once when it already has). */
export function exited(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/**
 * Stops a child by pid: `signal` first, SIGKILL when it has not exited after `graceMs`. Resolves
 * with how it ended. Safe to call on a child that already exited.
 */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<Exit> {
  const done = exited(child);
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return done;
  try {
    process.kill(child.pid, signal);
  } catch {
    return done;
  }
  let timer: NodeJS.Timeout | undefined;
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // Exited meanwhile.
        }
      }
      resolve();
    }, graceMs);
  });
  await Promise.race([done, forced]);
  clearTimeout(timer);
  return done;
}
