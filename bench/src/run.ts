/**
 * Runs every benchmark (`src/*.bench.ts`), or those whose name contains one of the arguments, one
 * after another in its own process so that one cannot warm or pollute another's heap. Each prints a
 * markdown section; the section is also written to `results/<name>.md` for bench/RESULTS.md.
 *
 *   npm run bench                 # all
 *   npm run bench -- json logger  # only json-parse.bench.ts and logger.bench.ts
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();

if (benches.length === 0) {
  console.error(`no benchmark matches ${filters.join(', ')}`);
  process.exit(1);
}

mkdirSync(join(here, '..', 'results'), { recursive: true });
let failed = 0;
for (const bench of benches) {
  console.error(`\n# running ${bench}`);
  const result = spawnSync(process.execPath, ['--conditions=bulwark-source', '--import', 'tsx', '--expose-gc', join(here, bench)], {
    cwd: join(here, '..'),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(result.stdout);
  if (result.status !== 0) {
    failed += 1;
    console.error(`${bench} exited with ${result.status}`);
    continue;
  }
  writeFileSync(join(here, '..', 'results', bench.replace(/\.bench\.ts$/, '.md')), result.stdout);
}
process.exit(failed === 0 ? 0 : 1);
