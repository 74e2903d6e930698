import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CONSOLE_DIR = join(REPO_ROOT, 'apps/console');
export const CONSOLE_DIST = join(CONSOLE_DIR, 'dist');

/** What the build is made from: a change to any of these makes dist/ stale. */
const SOURCES = ['src', 'index.html', 'vite.config.ts', 'package.json', 'tsconfig.json'];

function newestMtimeMs(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtimeMs(join(path, name))), stat.mtimeMs);
}

/** Whether apps/console/dist is missing or older than its sources. */
export function consoleBuildIsStale(): boolean {
  const built = statSync(join(CONSOLE_DIST, 'index.html'), { throwIfNoEntry: false });
  if (built === undefined) return true;
  return SOURCES.some((source) => newestMtimeMs(join(CONSOLE_DIR, source)) > built.mtimeMs);
}

/**
 * Builds the console (`vite build`) when dist/ is missing or stale. Test files run in parallel
 * processes and a gateway reads dist/ when it starts, so the check and the build run under one
 * file lock (`flock`, util-linux): the first file builds, the others find it fresh.
 */
export function ensureConsoleBuilt(): void {
  if (!consoleBuildIsStale()) return;
  const script = `
    import { consoleBuildIsStale } from ${JSON.stringify(fileURLToPath(import.meta.url))};
    import { execFileSync } from 'node:child_process';
    if (consoleBuildIsStale()) execFileSync(process.execPath, [${JSON.stringify(join(REPO_ROOT, 'node_modules/vite/bin/vite.js'))}, 'build', '--logLevel', 'warn'], { cwd: ${JSON.stringify(CONSOLE_DIR)}, stdio: 'inherit' });
  `;
  execFileSync('flock', [join(tmpdir(), 'bulwark-console-build.lock'), process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 120_000 });
}
