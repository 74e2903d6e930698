import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { describeBulwarkEnv } from 'bulwark/config';
import { parseMasterKey } from 'bulwark/crypto';
import { main } from '../../src/cli.js';
import { createSecretsGenerateCommand } from '../../src/commands/secrets.js';
import { runMain } from './fake-io.js';

describe('bulwark secrets generate', () => {
  it('prints a .env block with every generatable secret, each under a comment', async () => {
    const run = await runMain(['secrets', 'generate']);
    expect(run.code).toBe(0);
    const values = parseEnv(run.stdout);
    const expected = describeBulwarkEnv().filter((row) => row.generate !== undefined).map((row) => row.name);
    expect(Object.keys(values).sort()).toEqual([...expected].sort());
    for (const name of expected) expect(run.stdout).toMatch(new RegExp(`# [^\\n]+\\n${name}=`));
  });

  it('generates a valid master key and strong, distinct values on every run', async () => {
    const first = parseEnv((await runMain(['secrets', 'generate'])).stdout);
    const second = parseEnv((await runMain(['secrets', 'generate'])).stdout);
    expect(parseMasterKey(first['BULWARK_MASTER_KEY'] ?? '')).toHaveLength(32);
    expect(Buffer.from(first['METRICS_TOKEN'] ?? '', 'base64url').length).toBeGreaterThanOrEqual(32);
    expect(first['BULWARK_MASTER_KEY']).not.toBe(second['BULWARK_MASTER_KEY']);
    expect(first['METRICS_TOKEN']).not.toBe(second['METRICS_TOKEN']);
    expect(first['METRICS_TOKEN']).not.toBe(first['BULWARK_MASTER_KEY']);
  });

  it('leaves the previous master key as a commented hint, never a value', async () => {
    const run = await runMain(['secrets', 'generate']);
    expect(run.stdout).toContain('# BULWARK_MASTER_KEY_PREVIOUS=');
    expect(parseEnv(run.stdout)['BULWARK_MASTER_KEY_PREVIOUS']).toBeUndefined();
  });

  it('refuses --config when no config lister is registered, rather than ignoring it', async () => {
    const run = await runMain(['secrets', 'generate', '--config', 'gw.yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--config');
    expect(run.stdout).toBe('');
    expect((await runMain(['secrets', 'generate', '--help'])).stdout).not.toContain('--config');
  });

  it('adds the secrets a config file references when a lister is registered', async () => {
    const paths: string[] = [];
    const command = createSecretsGenerateCommand({
      listConfigSecrets: async (path) => {
        paths.push(path);
        return { ok: true, secrets: [{ name: 'STRIPE_WEBHOOK_SECRET', description: 'Stripe endpoint secret.' }, { name: 'METRICS_TOKEN', description: 'dup' }] };
      },
    });
    let stdout = '';
    const code = await main(['secrets', 'generate', '--config', 'gw.yaml'], { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true }, env: {}, exit: () => undefined, cwd: '/srv/app' }, [command]);
    expect(code).toBe(0);
    expect(paths).toEqual(['/srv/app/gw.yaml']);
    const values = parseEnv(stdout);
    expect(Object.keys(values).sort()).toEqual(['BULWARK_MASTER_KEY', 'METRICS_TOKEN', 'STRIPE_WEBHOOK_SECRET']);
    expect(stdout).toContain('# Referenced by gw.yaml.');
  });

  it('fails with the config problems when the lister reports them', async () => {
    const command = createSecretsGenerateCommand({ listConfigSecrets: async () => ({ ok: false, problems: [{ path: 'routes[0]', message: 'bad' }] }) });
    let stderr = '';
    const code = await main(['secrets', 'generate'], { stdout: { write: () => true }, stderr: { write: (text: string) => (stderr += text) }, env: { BULWARK_CONFIG: 'gw.yaml' }, exit: () => undefined }, [command]);
    expect(code).toBe(1);
    expect(stderr).toContain('routes[0]: bad');
  });
});
