import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMasterKey } from 'bulwark/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';

/** `bulwark keys …` and `bulwark audit verify` on the embedded database of a data directory. */

let dir: string;
const env = (): Record<string, string> => ({ NODE_ENV: 'development', BULWARK_MASTER_KEY: masterKey, BULWARK_DATA_DIR: dir });
let masterKey: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulwark-cli-'));
  masterKey = generateMasterKey();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[], variables: Record<string, string> = env()): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (text: string) => (out += text) }, stderr: { write: (text: string) => (err += text) }, env: variables, exit: () => undefined, cwd: dir });
  return { code, out, err };
}

describe('bulwark keys and audit verify', () => {
  it('refuses to work under an ephemeral master key', async () => {
    const { code, err } = await run(['keys', 'list'], { NODE_ENV: 'development', BULWARK_DATA_DIR: dir });
    expect(code).toBe(1);
    expect(err).toContain('BULWARK_MASTER_KEY');
  });

  it('creates, lists and revokes keys, every change audited, and the chain verifies', async () => {
    const created = await run(['keys', 'create', '--name', 'ci', '--tenant', 'acme', '--scope', 'orders:read', '--scope', 'orders:write']);
    expect(created.code, created.err).toBe(0);
    const key = /key \(shown once\): (bw_live_\S+)/.exec(created.out)?.[1];
    const id = /^(key_\S+)/.exec(created.out)?.[1];
    expect(key).toBeDefined();
    expect(id).toBeDefined();

    const listed = await run(['keys', 'list']);
    expect(listed.out).toContain(id);
    expect(listed.out).toContain('scopes=orders:read,orders:write');
    expect(listed.out).not.toContain(key);

    const revoked = await run(['keys', 'revoke', id ?? '']);
    expect(revoked.code, revoked.err).toBe(0);
    expect((await run(['keys', 'revoke', id ?? ''])).code).toBe(1);

    const verified = await run(['audit', 'verify']);
    expect(verified.code, verified.err).toBe(0);
    expect(verified.out).toMatch(/audit log intact: [2-9] entries/);
  }, 120_000);
});
