import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli.js';
import { DEFAULT_CONSOLE_ASSETS_DIR } from '../../src/console/console-builtins.js';
import { runDemo } from '../../src/demo/run-demo.js';
import type { SignalSource } from '../../src/lifecycle/signals.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const run = promisify(execFile);

/**
 * `npm start` (`bulwark start --demo`) as a newcomer meets it: the printed next steps are run as
 * printed, in a shell from the repository root, so the README's quick start stays true.
 */
describe('the demo (npm start)', () => {
  let stdout = '';
  let exited: Promise<number>;
  let dataDir: string;
  const listeners = new Map<string, () => void>();
  const signals: SignalSource = {
    on: (signal, listener) => listeners.set(signal, listener),
    off: (signal) => listeners.delete(signal),
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'bulwark-demo-'));
    const io: CliIo = {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stdout += text) },
      env: { HOST: '127.0.0.1', PORT: '0', BULWARK_DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
      exit: () => undefined,
    };
    exited = runDemo({ io, cwd: REPO_ROOT, signals });
    for (let waited = 0; !stdout.includes('Ctrl-C') && waited < 30_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stdout).toContain('Ctrl-C');
  }, 40_000);

  afterAll(async () => {
    listeners.get('SIGINT')?.();
    await rm(dataDir, { recursive: true, force: true });
  });

  const commandAfter = (comment: string): string => {
    const lines = stdout.split('\n');
    const start = lines.findIndex((line) => line.includes(comment));
    expect(start, comment).toBeGreaterThan(-1);
    const commands: string[] = [];
    for (const line of lines.slice(start + 1)) {
      if (line.trim() === '') break;
      commands.push(line.trim());
    }
    return commands.join('\n');
  };
  const shell = async (script: string): Promise<string> => (await run('bash', ['-c', script], { cwd: REPO_ROOT, timeout: 30_000 })).stdout;

  it('prints an API key command that reaches the upstream with the caller identified', async () => {
    const output = await shell(commandAfter('# 1. an API key'));
    expect(output).toMatch(/^HTTP\/1\.1 200/);
    expect(output).toContain('Hello from the demo upstream');
    expect(output).toMatch(/"tenant":"demo"/);
  });

  it('prints a signed command (bulwark sign) that the signature route accepts', async () => {
    const output = await shell(commandAfter('# 2. a request signed'));
    expect(output).toContain('Hello from the demo upstream');
    expect(output).not.toContain('problem');
  }, 40_000);

  it('prints the console address, which serves the console (or says how to build it)', async () => {
    const url = /Admin console: (\S+)/.exec(stdout)?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/console\/$/);
    const response = await fetch(url ?? '');
    if (existsSync(join(DEFAULT_CONSOLE_ASSETS_DIR, 'index.html'))) {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/html');
    } else {
      expect(response.status).toBe(503);
      expect(await response.text()).toContain('CONSOLE_NOT_BUILT');
    }
  });

  it('stops on Ctrl-C with exit code 0', async () => {
    listeners.get('SIGINT')?.();
    expect(await exited).toBe(0);
  }, 30_000);
});
