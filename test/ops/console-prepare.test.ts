import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/kit.js';

/** The root `prepare` step builds the console when it can and never fails an install that omits dev dependencies. */

const SCRIPT = join(REPO_ROOT, 'apps/console/scripts/build-if-possible.mjs');
const made: string[] = [];

/** A stand-in console package whose `build` script runs `build`; with a stub vite when `withVite`. */
function consolePackage(build: string, withVite: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-console-'));
  made.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'console-stand-in', private: true, scripts: { build } }));
  if (withVite) {
    mkdirSync(join(dir, 'node_modules/vite'), { recursive: true });
    writeFileSync(join(dir, 'node_modules/vite/package.json'), JSON.stringify({ name: 'vite', version: '0.0.0' }));
  }
  return dir;
}

const run = (dir: string) => spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('apps/console/scripts/build-if-possible.mjs', () => {
  it('is the root prepare step', () => {
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(manifest.scripts.prepare).toBe('node apps/console/scripts/build-if-possible.mjs');
  });

  it('skips the build with a note and exit 0 when vite is not installed (npm ci --omit=dev)', () => {
    const dir = consolePackage('node -e "require(\'fs\').writeFileSync(\'built\', \'\')"', false);
    const result = run(dir);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('CONSOLE_NOT_BUILT');
    expect(existsSync(join(dir, 'built'))).toBe(false);
  });

  it('builds when vite is installed, and fails the install when the build fails', () => {
    const ok = consolePackage('node -e "require(\'fs\').writeFileSync(\'built\', \'\')"', true);
    expect(run(ok).status).toBe(0);
    expect(existsSync(join(ok, 'built'))).toBe(true);
    expect(run(consolePackage('node -e "process.exit(3)"', true)).status).toBe(3);
  });
});
