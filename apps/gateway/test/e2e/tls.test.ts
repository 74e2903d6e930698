import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** HTTPS with the certificate and key read from inside `server.tls.certDir` at start-up. */

let dir: string;
let upstream: TestUpstream;
let gateway: TestGateway;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulwark-tls-'));
  await mkdir(join(dir, 'certs'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'certs', 'gateway.key'), '-out', join(dir, 'certs', 'gateway.crt')], { stdio: 'ignore' });
  upstream = await startUpstream();
  const path = join(dir, 'bulwark.yaml');
  await writeFile(
    path,
    `server: { host: 127.0.0.1, port: 0, tls: { certDir: certs, cert: gateway.crt, key: gateway.key } }\nupstreams:\n  api: { url: "${upstream.url}" }\nroutes:\n  - { match: { prefix: /api }, upstream: api, public: true }\n`,
  );
  gateway = await startTestGateway({ config: undefined, configPath: path });
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
  await rm(dir, { recursive: true, force: true });
});

describe('TLS', () => {
  it('serves HTTPS, tells the upstream the client used https, and logs file names only', async () => {
    expect(gateway.running.url).toMatch(/^https:/);
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
    const response = await request(`https://127.0.0.1:${gateway.running.port}/api/x`, { dispatcher });
    await response.body.dump();
    expect(response.statusCode).toBe(200);
    expect(upstream.seen.at(-1)?.headers['x-forwarded-proto']).toBe('https');
    await dispatcher.close();
    const listening = gateway.logs.lines.find((line) => line.msg === 'bulwark gateway listening');
    expect(listening?.tls).toEqual({ cert: 'gateway.crt', key: 'gateway.key' });
    expect(gateway.logs.raw.join('\n')).not.toContain(dir);
  });
});
