import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { generateMasterKey, generateSecret } from 'bulwark/crypto';
import { main } from '../../src/cli.js';
import { createCheckCommand } from '../../src/commands/check.js';
import type { ConfigFileValidator } from '../../src/commands/check.js';
import { runMain } from './fake-io.js';

const directory = mkdtempSync(join(tmpdir(), 'bulwark-check-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function runCheck(argv: readonly string[], env: Record<string, string>, validateConfigFile?: ConfigFileValidator) {
  let stdout = '';
  let stderr = '';
  const code = await main(
    ['check', ...argv],
    { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env, exit: () => undefined, cwd: directory },
    [createCheckCommand({ validateConfigFile })],
  );
  return { code, stdout, stderr };
}

describe('bulwark check: environment', () => {
  it('fails in production without a master key, naming it and printing no secret', async () => {
    const token = generateSecret();
    const run = await runMain(['check'], { NODE_ENV: 'production', METRICS_TOKEN: token });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('BULWARK_MASTER_KEY: is required when NODE_ENV=production');
    expect(run.stderr).toContain('bulwark secrets generate');
    expect(`${run.stdout}${run.stderr}`).not.toContain(token);
  });

  it('lists every problem at once', async () => {
    const run = await runMain(['check'], { NODE_ENV: 'production', PORT: 'http', METRICS_TOKEN: 'changeme', REDIS_URL: 'http://user:hunter2@x' });
    expect(run.code).toBe(1);
    for (const variable of ['BULWARK_MASTER_KEY', 'PORT', 'METRICS_TOKEN', 'REDIS_URL']) expect(run.stderr).toContain(`✗ ${variable}:`);
    expect(run.stderr).toContain('Check failed: 4 problems.');
    expect(run.stderr).not.toContain('changeme');
    expect(run.stderr).not.toContain('hunter2');
  });

  it('passes with the output of secrets generate, showing key ids but no secret', async () => {
    const generated = parseEnv((await runMain(['secrets', 'generate'])).stdout) as Record<string, string>;
    const run = await runMain(['check'], { NODE_ENV: 'production', ...generated });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('✓ environment: valid');
    expect(run.stdout).toMatch(/master key: +BULWARK_MASTER_KEY \(key id [0-9a-f]{16}\)/);
    expect(run.stdout).toContain('OK: ready to start.');
    for (const value of Object.values(generated)) expect(`${run.stdout}${run.stderr}`).not.toContain(value);
  });

  it('warns on stderr about an ephemeral master key outside production', async () => {
    const run = await runMain(['check'], {});
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('BULWARK_MASTER_KEY is not set');
  });

  it('never prints connection URLs, and shows a rotation in progress', async () => {
    const run = await runMain(['check'], {
      BULWARK_MASTER_KEY: generateMasterKey(),
      BULWARK_MASTER_KEY_PREVIOUS: generateMasterKey(),
      REDIS_URL: 'redis://:hunter2@cache:6379',
      DATABASE_URL: 'postgres://bulwark:hunter2@db/bulwark',
    });
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('hunter2');
    expect(run.stdout).toMatch(/rotation: +previous key id [0-9a-f]{16}/);
  });

  it('reads --env-file, with variables already set in the environment winning', async () => {
    const file = join(directory, 'prod.env');
    writeFileSync(file, `NODE_ENV=production\nBULWARK_MASTER_KEY=${generateMasterKey()}\nMETRICS_ALLOWED_IPS=10.0.0.0/8\nPORT=9000\n`);
    const passing = await runCheck(['--env-file', 'prod.env'], { PORT: '9100' });
    expect(passing.code).toBe(0);
    expect(passing.stdout).toContain('NODE_ENV=production');
    expect(passing.stdout).toContain('127.0.0.1:9100');
    const failing = await runCheck(['--env-file', 'prod.env'], { BULWARK_MASTER_KEY: 'changeme' });
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain('BULWARK_MASTER_KEY');
  });

  it('fails on an unreadable --env-file', async () => {
    const run = await runCheck(['--env-file', 'missing.env'], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot read the env file');
  });
});

describe('bulwark check: config file', () => {
  const configFile = join(directory, 'bulwark.yaml');
  writeFileSync(configFile, 'routes: []\n');

  it('says the config is skipped when none is given', async () => {
    const run = await runCheck([], {});
    expect(run.stdout).toContain('config: no file given');
  });

  it('without a registered validator, checks only that the file is readable, and says so', async () => {
    const readable = await runCheck(['--config', 'bulwark.yaml'], {});
    expect(readable.code).toBe(0);
    expect(readable.stdout).toContain('not registered in this build');
    const missing = await runCheck(['--config', 'nope.yaml'], {});
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read nope.yaml (ENOENT)');
  });

  it('calls the registered validator with the absolute path; --config wins over BULWARK_CONFIG', async () => {
    const calls: string[] = [];
    const validator: ConfigFileValidator = async (path, { env }) => {
      calls.push(path);
      return { ok: true, summary: [`${env?.NODE_ENV ?? 'invalid env'}: 3 routes`] };
    };
    const run = await runCheck(['--config', 'bulwark.yaml'], { BULWARK_CONFIG: 'other.yaml' }, validator);
    expect(run.code).toBe(0);
    expect(calls).toEqual([configFile]);
    expect(run.stdout).toContain('✓ config: bulwark.yaml is valid');
    expect(run.stdout).toContain('development: 3 routes');
  });

  it('lists config problems together with environment problems', async () => {
    const validator: ConfigFileValidator = async () => ({ ok: false, problems: [{ path: 'routes[0].upstream', message: 'unknown upstream "api"' }, { path: '', message: 'x' }] });
    const both = await runCheck(['--config', 'bulwark.yaml'], { PORT: '65536' }, validator);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('✗ PORT:');
    expect(both.stderr).toContain('✗ routes[0].upstream: unknown upstream "api"');
    expect(both.stderr).toContain('Check failed: 3 problems.');
    const configOnly = await runCheck(['--config', 'bulwark.yaml'], {}, validator);
    expect(configOnly.code).toBe(1);
    expect(configOnly.stderr).toContain('✗ config: bulwark.yaml: 2 problems.');
    expect(configOnly.stderr).toContain('✗ routes[0].upstream: unknown upstream "api"');
    expect(configOnly.stderr).toContain('Check failed: 2 problems.');
  });
});
