import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateSecret } from 'bulwark/crypto';
import { COMMANDS, usage } from '../../src/cli.js';
import type { CliCommand } from '../../src/cli.js';
import { runMain } from './fake-io.js';

const seen: unknown[] = [];
const commands: CliCommand[] = [
  { name: 'keys create', summary: 'Create a key', options: { scope: { type: 'string', multiple: true } }, run: (context) => (seen.push(context.values), 0) },
  { name: 'keys list', summary: 'List keys', run: () => 0 },
  { name: 'sign', summary: 'Sign a request', allowPositionals: true, run: (context) => (seen.push(context.positionals), 3) },
  {
    name: 'boom',
    summary: 'Fails',
    run: () => {
      throw new Error('disk on fire');
    },
  },
];

describe('main: dispatch', () => {
  it('runs the command whose words match, with its parsed options, and exits with its code', async () => {
    seen.length = 0;
    const run = await runMain(['keys', 'create', '--scope', 'read', '--scope', 'write'], {}, { commands });
    expect(run).toMatchObject({ code: 0, exits: [0] });
    expect(seen).toEqual([{ scope: ['read', 'write'] }]);
  });

  it('passes positionals to commands that accept them', async () => {
    seen.length = 0;
    const run = await runMain(['sign', 'GET', 'https://api.example/x'], {}, { commands });
    expect(run.code).toBe(3);
    expect(seen).toEqual([['GET', 'https://api.example/x']]);
  });

  it('answers an unknown command with the usage on stderr and exit 2', async () => {
    const run = await runMain(['deploy'], {}, { commands });
    expect(run).toMatchObject({ code: 2, exits: [2], stdout: '' });
    expect(run.stderr).toContain('unknown command "deploy"');
    expect(run.stderr).toContain('Usage: bulwark <command>');
  });

  it('answers a group without its subcommand with the subcommands and exit 2', async () => {
    const run = await runMain(['keys'], {}, { commands });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('"keys" needs a subcommand: keys create, keys list');
  });

  it('answers no command at all with the usage on stderr and exit 2', async () => {
    const run = await runMain([], {}, { commands });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: bulwark <command>');
  });

  it('refuses unknown options and stray positionals with exit 2 and the command usage', async () => {
    const unknown = await runMain(['keys', 'list', '--force'], {}, { commands });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/bulwark keys list: .*--force/);
    expect(unknown.stderr).toContain('Usage: bulwark keys list');
    const positional = await runMain(['keys', 'list', 'extra'], {}, { commands });
    expect(positional.code).toBe(2);
  });

  it('refuses an option without its value', async () => {
    expect((await runMain(['keys', 'create', '--scope'], {}, { commands })).code).toBe(2);
  });

  it('reports a crashing command as exit 1 with its message and no stack', async () => {
    const run = await runMain(['boom'], {}, { commands });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('bulwark boom failed: disk on fire\n');
  });
});

describe('main: help and version', () => {
  it('lists every command on --help, on stdout, exit 0', async () => {
    for (const flag of ['--help', '-h', 'help']) {
      const run = await runMain([flag]);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(usage());
      for (const command of COMMANDS) expect(run.stdout).toContain(command.name);
    }
  });

  it('shows the help of one command', async () => {
    const run = await runMain(['check', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: bulwark check [--config <file>] [--env-file <file>]');
  });

  it('prints the version', async () => {
    const run = await runMain(['--version']);
    expect(run.stdout).toMatch(/^bulwark \d+\.\d+\.\d+/);
  });
});

describe('COMMANDS', () => {
  it('registers check and secrets generate, with unique names', () => {
    const names = COMMANDS.map((command) => command.name);
    expect(names).toEqual(expect.arrayContaining(['check', 'secrets generate']));
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('bulwark keys (embedded database)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'bulwark-cli-keys-'));
    env = { BULWARK_MASTER_KEY: generateSecret(), BULWARK_DATA_DIR: dataDir };
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses an --expires that is not an ISO 8601 instant in the future, creating nothing', async () => {
    // new Date() reads "90" (meant as days) as the year 1990 and "7" as July 2001: a key dead on arrival.
    for (const expires of ['90', '7', 'Dec 31', '12/31/2099', '2099-02-30', '2099-12-31T10:00', '2000-01-01T00:00:00Z']) {
      const run = await runMain(['keys', 'create', '--name', 'ci', '--tenant', 'acme', '--expires', expires], env);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--expires');
      expect(run.stdout).not.toContain('bw_live_');
    }
    const listed = await runMain(['keys', 'list', '--all'], env);
    expect(listed.stdout).toBe('0 keys\n');
    const created = await runMain(['keys', 'create', '--name', 'ci', '--tenant', 'acme', '--expires', '2099-12-31'], env);
    expect(created.code).toBe(0);
  });

  it('warns, without a stack trace, when Redis cannot take the broadcast of a revocation', async () => {
    const created = await runMain(['keys', 'create', '--name', 'leaked', '--tenant', 'acme'], env);
    const id = /^(key_\S+)/.exec(created.stdout)?.[1] ?? '';
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const run = await runMain(['keys', 'revoke', id], { ...env, REDIS_URL: 'redis://127.0.0.1:1' });
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`revoked ${id}\n`);
      expect(run.stderr).toMatch(/could not broadcast/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      consoleError.mockRestore();
    }
  });
});
