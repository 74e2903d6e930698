import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfigText } from '../../src/config/load.js';
import { loadTlsFiles } from '../../src/config/tls-files.js';
import { validateConfigFile } from '../../src/config/validate-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulwark-config-'));
  await mkdir(join(dir, 'certs'));
  await writeFile(join(dir, 'certs', 'server.crt'), 'CERT');
  await writeFile(join(dir, 'certs', 'server.key'), 'KEY');
  await writeFile(join(dir, 'outside.key'), 'SECRET KEY');
  await symlink(join(dir, 'outside.key'), join(dir, 'certs', 'link.key'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const yaml = `
upstreams:
  api: { url: "\${API_URL}" }
routes:
  - match: { prefix: /v1 }
    upstream: api
    auth: { type: apiKey }
`;

describe('config files', () => {
  it('loads YAML and JSON with the same schema', async () => {
    await writeFile(join(dir, 'bulwark.yaml'), yaml);
    await writeFile(join(dir, 'bulwark.json'), JSON.stringify({ upstreams: { api: { url: '${API_URL}' } }, routes: [{ match: { prefix: '/v1' }, upstream: 'api', auth: { type: 'apiKey' } }] }));
    const env = { API_URL: 'http://127.0.0.1:4000' };
    const fromYaml = await loadConfigFile(join(dir, 'bulwark.yaml'), env);
    const fromJson = await loadConfigFile(join(dir, 'bulwark.json'), env);
    expect(fromYaml.ok && fromJson.ok).toBe(true);
    if (fromYaml.ok && fromJson.ok) expect(fromYaml.config).toEqual(fromJson.config);
  });

  it('refuses duplicate YAML keys and anchors bombs', () => {
    expect(parseConfigText('a: 1\na: 2\n', 'yaml').problems[0]?.message).toMatch(/not valid YAML/);
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');
    expect(parseConfigText(bomb, 'yaml').problems[0]?.message).toMatch(/not valid YAML/);
  });

  it('names a file it cannot read, and a top level that is not a mapping', async () => {
    expect(await loadConfigFile(join(dir, 'missing.yaml'), {})).toEqual({ ok: false, problems: [{ path: '', message: expect.stringContaining('ENOENT') }] });
    await writeFile(join(dir, 'list.yaml'), '- 1\n- 2\n');
    expect(await loadConfigFile(join(dir, 'list.yaml'), {})).toEqual({ ok: false, problems: [{ path: '', message: expect.stringMatching(/mapping/) }] });
  });

  it('reads TLS files inside certDir and refuses .., absolute paths and links that leave it, naming files only', async () => {
    const ok = await loadTlsFiles({ certDir: 'certs', cert: 'server.crt', key: 'server.key' }, dir);
    expect(ok.ok && ok.material.certName).toBe('server.crt');
    for (const key of ['../outside.key', join(dir, 'outside.key'), 'link.key']) {
      const refused = await loadTlsFiles({ certDir: 'certs', cert: 'server.crt', key }, dir);
      expect(refused.ok).toBe(false);
      if (!refused.ok) {
        expect(refused.problems[0]?.path).toBe('server.tls.key');
        expect(refused.problems[0]?.message).not.toContain(dir);
      }
    }
    const missing = await loadTlsFiles({ certDir: 'certs', cert: 'nope.crt', key: 'server.key' }, dir);
    expect(missing).toEqual({ ok: false, problems: [{ path: 'server.tls.cert', message: 'nope.crt cannot be read (ENOENT)' }] });
  });

  it('validateConfigFile (the hook of `bulwark check`) lists schema, TLS and validation-schema problems together', async () => {
    await writeFile(
      join(dir, 'broken.yaml'),
      `
server:
  tls: { certDir: certs, cert: server.crt, key: ../outside.key }
upstreams:
  api: { url: "http://127.0.0.1:1" }
routes:
  - match: { prefix: /v1 }
    upstream: api
    auth: { type: apiKey }
    validation: { body: { type: object, properties: { a: { type: strnig } } } }
`,
    );
    const result = await validateConfigFile(join(dir, 'broken.yaml'), { source: {} });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((problem) => problem.path)).toEqual(expect.arrayContaining(['server.tls.key', 'routes[0].validation.body']));
    const good = await validateConfigFile(join(dir, 'bulwark.yaml'), { source: { API_URL: 'http://127.0.0.1:4000' } });
    expect(good.ok && good.summary.join('\n')).toMatch(/routes: +1 \(0 public; auth apiKey ×1\)/);
  });
});

describe('signatureKeys', () => {
  it('reports a signature key the verifier cannot use (check and start alike), naming the key but not its value', async () => {
    const privatePem = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBQ0c2VjcmV0LXByaXZhdGUta2V5LWJ5dGVzLXh4eHg=\n-----END PRIVATE KEY-----';
    await writeFile(
      join(dir, 'bad-signature-keys.json'),
      JSON.stringify({
        upstreams: { api: { url: 'http://127.0.0.1:1' } },
        routes: [{ match: { prefix: '/v1' }, upstream: 'api', auth: { type: 'signature' } }],
        signatureKeys: {
          garbled: { algorithm: 'ed25519', publicKey: 'this-is-not-an-ed25519-public-key-at-all' },
          leaked: { algorithm: 'ed25519', publicKey: privatePem },
        },
      }),
    );
    const result = await validateConfigFile(join(dir, 'bad-signature-keys.json'), { source: {} });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((problem) => problem.path)).toEqual(['signatureKeys.garbled.publicKey', 'signatureKeys.leaked.publicKey']);
    const text = JSON.stringify(result.problems);
    expect(text).not.toContain('this-is-not-an-ed25519');
    expect(text).not.toContain('MC4CAQAw');
  });
});
