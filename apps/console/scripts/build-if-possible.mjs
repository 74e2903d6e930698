/**
 * The root `prepare` step: builds the console on `npm install` / `npm ci`, so a fresh clone serves it.
 *
 * With `npm ci --omit=dev` the console's build tool (vite, a dev dependency) is not installed, and a
 * failing `prepare` would fail the whole install. Then the build is skipped with a note: the gateway
 * still starts, and answers 503 CONSOLE_NOT_BUILT at the console path until a build with dev
 * dependencies ships `apps/console/dist` (docs/deploy.md).
 *
 *   node apps/console/scripts/build-if-possible.mjs [consoleDir]
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const consoleDir = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));

function hasVite() {
  try {
    createRequire(join(consoleDir, 'package.json')).resolve('vite/package.json');
    return true;
  } catch {
    return false;
  }
}

if (!hasVite()) {
  process.stderr.write('bulwark: console not built (vite is a dev dependency and is not installed); the gateway answers 503 CONSOLE_NOT_BUILT at the console path. Build with dev dependencies to ship it: see docs/deploy.md.\n');
  process.exit(0);
}
const build = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: consoleDir, stdio: 'inherit' });
process.exit(build.status ?? 1);
