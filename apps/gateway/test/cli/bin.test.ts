/**
 * The real `bulwark` executable in child processes: bin/bulwark.js → (no build) tsx → src/cli.ts.
 * These are the only tests that prove the bin works without a build, exit codes reach the shell,
 * and nothing secret is printed by a real process.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSecret } from 'bulwark/crypto';

const BIN = fileURLToPath(new URL('../../bin/bulwark.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'bulwark-bin-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

interface ProcessRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the bin from a directory outside the repository, with exactly the given environment. */
function bulwark(args: readonly string[], env: Record<string, string> = {}): Promise<ProcessRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: directory, env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('bin/bulwark.js (child processes)', () => {
  it('check exits 1 in production without BULWARK_MASTER_KEY, names it and prints no secret', async () => {
    const token = generateSecret();
    const run = await bulwark(['check'], { NODE_ENV: 'production', METRICS_TOKEN: token });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('BULWARK_MASTER_KEY');
    expect(run.stderr).toContain('bulwark secrets generate');
    expect(`${run.stdout}${run.stderr}`).not.toContain(token);
  });

  it('the output of secrets generate, used as the environment, makes check pass', async () => {
    const generated = await bulwark(['secrets', 'generate']);
    expect(generated.code).toBe(0);
    const envFile = join(directory, '.env');
    writeFileSync(envFile, `NODE_ENV=production\n${generated.stdout}`);
    const viaEnv = await bulwark(['check'], { NODE_ENV: 'production', ...(parseEnv(generated.stdout) as Record<string, string>) });
    expect(viaEnv.stderr).toBe('');
    expect(viaEnv.code).toBe(0);
    expect(viaEnv.stdout).toContain('OK: ready to start.');
    const viaFile = await bulwark(['check', '--env-file', envFile]);
    expect(viaFile.code).toBe(0);
  });

  it('an unknown command exits 2 with the usage on stderr', async () => {
    const run = await bulwark(['frobnicate']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('unknown command "frobnicate"');
    expect(run.stderr).toContain('Usage: bulwark <command>');
  });
});
