import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryReplayStore, createSignatureVerifier, ed25519SignatureKey, hmacSignatureKey, type SignatureKey } from 'bulwark/auth';
import { createMetricsRegistry } from 'bulwark/observability';
import { createSignCommand, runSign } from './sign.js';

const SECRET = randomBytes(32).toString('base64url');
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const KEYS: Record<string, SignatureKey> = { billing: hmacSignatureKey('billing', SECRET), partner: ed25519SignatureKey('partner', publicKey) };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulwark-sign-'));
  await writeFile(join(dir, 'order.json'), '{"sku": "A-1",\n "qty": 2}\n');
  await writeFile(join(dir, 'secret.txt'), `${SECRET}\n`);
  await writeFile(join(dir, 'partner.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[], env: Record<string, string> = { BILLING_SECRET: SECRET }) {
  let stdout = '';
  let stderr = '';
  const code = await runSign(args, { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env, cwd: dir });
  return { code, stdout, stderr };
}

/** The headers of `-H 'Name: value'` arguments, unquoted as a POSIX shell would. */
function headersOf(output: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const match of output.matchAll(/-H '((?:[^']|'\\'')*)'/g)) {
    const line = match[1]!.replace(/'\\''/g, "'");
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 2);
  }
  return headers;
}

function verifier() {
  return createSignatureVerifier({ keys: (keyId) => KEYS[keyId], nonceStore: createMemoryReplayStore(), registry: createMetricsRegistry({ defaultMetrics: false }) });
}

describe('bulwark sign', () => {
  it('prints -H arguments that the verifier accepts for a POST with a body file', async () => {
    const { code, stdout } = await run(['--key-id', 'billing', '--secret-env', 'BILLING_SECRET', '--method', 'POST', '--url', 'https://api.example.com/orders?x=1', '--data', '@order.json']);
    expect(code).toBe(0);
    const headers = headersOf(stdout);
    expect(Object.keys(headers).sort()).toEqual(['content-digest', 'signature', 'signature-input']);
    const result = await verifier().verify({ method: 'POST', url: '/orders?x=1', headers: { ...headers, host: 'api.example.com' }, body: Buffer.from('{"sku": "A-1",\n "qty": 2}\n') });
    expect(result).toMatchObject({ ok: true, keyId: 'billing' });
  });

  it('reads the secret from a file without its trailing newline, and covers extra headers', async () => {
    const { code, stdout } = await run(['--key-id', 'billing', '--secret-file', 'secret.txt', '--url', 'https://api.example.com/', '--header', "X-Tenant: o'brien"]);
    expect(code).toBe(0);
    const headers = headersOf(stdout);
    expect(headers['x-tenant']).toBe("o'brien");
    expect(headers['signature-input']).toContain('"x-tenant"');
    expect(await verifier().verify({ method: 'GET', url: '/', headers: { ...headers, host: 'api.example.com' } })).toMatchObject({ ok: true });
  });

  it('signs with an ed25519 private key file', async () => {
    const { code, stdout } = await run(['--key-id', 'partner', '--algorithm', 'ed25519', '--secret-file', 'partner.pem', '--url', 'https://api.example.com/feed']);
    expect(code).toBe(0);
    expect(await verifier().verify({ method: 'GET', url: '/feed', headers: { ...headersOf(stdout), host: 'api.example.com' } })).toMatchObject({ ok: true, algorithm: 'ed25519' });
  });

  it('prints a whole curl command with --curl, sending the body with --data-binary', async () => {
    const { stdout } = await run(['--key-id', 'billing', '--secret-env', 'BILLING_SECRET', '--method', 'POST', '--url', 'https://api.example.com/orders', '--data', '{"a":1}', '--curl']);
    expect(stdout).toMatch(/^curl -X 'POST' 'https:\/\/api\.example\.com\/orders' -H 'Content-Digest: sha-256=:[^']+:' -H 'Signature-Input: .+' -H 'Signature: .+' --data-binary '\{"a":1\}'\n$/);
  });

  it('never accepts the secret on the command line', async () => {
    for (const args of [['--secret', SECRET], [`--secret=${SECRET}`], ['--key', SECRET]]) {
      const { code, stderr, stdout } = await run(['--key-id', 'billing', '--url', 'https://a.example/', ...args]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/never read from the command line/);
      expect(stderr + stdout).not.toContain(SECRET);
    }
  });

  it('reports usage errors with exit code 2', async () => {
    for (const args of [
      ['--secret-env', 'BILLING_SECRET', '--url', 'https://a.example/'],
      ['--key-id', 'billing', '--secret-env', 'BILLING_SECRET'],
      ['--key-id', 'billing', '--url', 'https://a.example/'],
      ['--key-id', 'billing', '--secret-env', 'A', '--secret-file', 'b', '--url', 'https://a.example/'],
      ['--key-id', 'billing', '--secret-env', 'BILLING_SECRET', '--url', '/relative'],
      ['--key-id', 'billing', '--secret-env', 'BILLING_SECRET', '--url', 'ftp://a.example/'],
      ['--key-id', 'billing', '--secret-env', 'BILLING_SECRET', '--url', 'https://a.example/', '--algorithm', 'rsa'],
      ['--key-id', 'billing', '--secret-env', 'BILLING_SECRET', '--url', 'https://a.example/', '--header', 'no colon'],
      ['--unknown'],
    ]) {
      expect((await run(args)).code).toBe(2);
    }
  });

  it('fails with exit code 1 when the secret or body cannot be used, without echoing the secret', async () => {
    expect((await run(['--key-id', 'billing', '--secret-env', 'UNSET', '--url', 'https://a.example/'])).code).toBe(1);
    const weak = await run(['--key-id', 'billing', '--secret-env', 'WEAK', '--url', 'https://a.example/'], { WEAK: 'short-secret' });
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/32 bytes/);
    expect(weak.stderr).not.toContain('short-secret');
    expect((await run(['--key-id', 'billing', '--secret-env', 'BILLING_SECRET', '--url', 'https://a.example/', '--data', '@missing.json'])).code).toBe(1);
  });

  it('prints its help', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/--secret-env/);
  });

  it('fits the CLI command table: run() receives parsed values', async () => {
    const command = createSignCommand();
    let stdout = '';
    const code = await command.run({
      values: { 'key-id': 'billing', 'secret-env': 'BILLING_SECRET', url: 'https://api.example.com/', method: 'GET', algorithm: 'hmac-sha256', curl: false, help: false },
      io: { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => undefined }, env: { BILLING_SECRET: SECRET } },
      cwd: dir,
    });
    expect(code).toBe(0);
    expect(headersOf(stdout)['signature-input']).toMatch(/keyid="billing"/);
  });

  it('signs a body that starts with a dash (a multipart body) when run from the CLI table', async () => {
    const command = createSignCommand();
    let stdout = '';
    let stderr = '';
    const code = await command.run({
      values: { 'key-id': 'billing', 'secret-env': 'BILLING_SECRET', url: 'https://api.example.com/n', method: 'POST', data: '--boundary\r\n-1', algorithm: 'hmac-sha256', curl: false, help: false },
      io: { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env: { BILLING_SECRET: SECRET } },
      cwd: dir,
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = await verifier().verify({ method: 'POST', url: '/n', headers: { ...headersOf(stdout), host: 'api.example.com' }, body: Buffer.from('--boundary\r\n-1') });
    expect(result).toMatchObject({ ok: true });
  });
});
