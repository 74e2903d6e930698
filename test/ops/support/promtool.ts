/** Runs promtool (Debian's `prometheus` package; `.ci/run` installs it when missing). */
import { execFile } from 'node:child_process';

export interface PromtoolResult {
  readonly code: number;
  /** stdout and stderr together, as promtool printed them. */
  readonly output: string;
}

/** The promtool binary: `$PROMTOOL`, else `promtool` on the PATH. */
export const PROMTOOL = process.env['PROMTOOL'] ?? 'promtool';

const MISSING = `promtool was not found (tried "${PROMTOOL}"). The Prometheus rule tests need it: install it with \`apt-get install prometheus\` (Debian/Ubuntu; .ci/run does this), or set PROMTOOL to its path.`;

/**
 * Runs promtool with `args` from `cwd`. A missing binary is an error with instructions, never a
 * skipped test: alert rules that were not tested must not pass as tested.
 */
export function promtool(args: readonly string[], cwd: string): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    execFile(PROMTOOL, [...args], { cwd, timeout: 30_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (error === null) {
        resolve({ code: 0, output });
        return;
      }
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(MISSING));
        return;
      }
      if (typeof error.code === 'number') resolve({ code: error.code, output });
      else reject(new Error(`promtool ${args.join(' ')} did not finish: ${error.message}\n${output}`));
    });
  });
}
