/**
 * The command-line side of the generators in this folder: write the file, or with `--check` exit 1
 * when the committed file differs from what the sources produce (for CI and pre-commit hooks).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { relative } from 'node:path';

/** The repository root (this file is deploy/scripts/generated-file.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Whether the module at `moduleUrl` is the script node was started with (not an import). */
export function isMainModule(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && pathToFileURL(entry).href === moduleUrl;
}

/**
 * Writes `render()` to `path`, or with `--check` compares them. Returns the exit code.
 *
 * @example
 * if (isMainModule(import.meta.url)) process.exitCode = await writeOrCheck(OUTPUT, renderEnvExample, process.argv.slice(2));
 */
export async function writeOrCheck(path: string, render: () => string, args: readonly string[]): Promise<number> {
  const unknown = args.filter((arg) => arg !== '--check');
  const shown = relative(process.cwd(), path) || path;
  if (unknown.length > 0) {
    process.stderr.write(`unknown argument(s): ${unknown.join(' ')}\nusage: [--check]  (write ${shown}, or with --check exit 1 when it is stale)\n`);
    return 2;
  }
  const expected = render();
  if (args.includes('--check')) {
    const current = await readFile(path, 'utf8').catch(() => undefined);
    if (current === expected) return 0;
    process.stderr.write(`${shown} is stale: regenerate it with \`npx tsx --conditions=bulwark-source ${relative(process.cwd(), process.argv[1] ?? '')}\`\n`);
    return 1;
  }
  await writeFile(path, expected);
  process.stdout.write(`wrote ${shown}\n`);
  return 0;
}
