import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from 'bulwark/auth';
import { main } from '../../src/cli.js';
import { runUntilSignal, type SignalSource } from '../../src/lifecycle/signals.js';
import { send, startTestGateway } from '../support/gateway.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** Start-up validation, graceful shutdown and hot reload. */

let upstream: TestUpstream;
let dir: string;
beforeAll(async () => {
  upstream = await startUpstream();
  dir = await mkdtemp(join(tmpdir(), 'bulwark-lifecycle-'));
});
afterAll(async () => {
  await upstream.close();
  await rm(dir, { recursive: true, force: true });
});

function configYaml(routes: string): string {
  return `server: { host: 127.0.0.1, port: 0 }\nupstreams:\n  api: { url: "${upstream.url}" }\nroutes:\n${routes}`;
}

function captureIo(env: Record<string, string>): { io: Parameters<typeof main>[1]; out: () => string; err: () => string; code: () => number | undefined } {
  let out = '';
  let err = '';
  let code: number | undefined;
  return {
    io: {
      stdout: { write: (text: string) => (out += text) },
      stderr: { write: (text: string) => (err += text) },
      env,
      exit: (value: number) => {
        code = value;
      },
      cwd: dir,
    },
    out: () => out,
    err: () => err,
    code: () => code,
  };
}

describe('start-up validation', () => {
  it('refuses to start in production without the secrets, naming the variable (exit 1, nothing listens)', async () => {
    await writeFile(join(dir, 'ok.yaml'), configYaml('  - { match: { prefix: /api }, upstream: api, auth: { type: apiKey } }\n'));
    const capture = captureIo({ NODE_ENV: 'production' });
    const code = await main(['start', '--config', 'ok.yaml'], capture.io);
    expect(code).toBe(1);
    expect(capture.code()).toBe(1);
    expect(capture.err()).toContain('BULWARK_MASTER_KEY');
    expect(capture.err()).toContain('METRICS_TOKEN');
    expect(capture.err()).toMatch(/secrets generate/);
  });

  it('lists every problem of an invalid config at once (exit 1)', async () => {
    await writeFile(join(dir, 'bad.yaml'), configYaml('  - { match: { prefix: /api }, upstream: nowhere }\n  - { match: { prefix: /b }, upstream: api, auth: { type: webhook, scheme: stripe, secrets: ["${MISSING_SECRET}"] } }\n'));
    const capture = captureIo({ NODE_ENV: 'development' });
    expect(await main(['start', '--config', 'bad.yaml'], capture.io)).toBe(1);
    expect(capture.err()).toContain('routes[0].upstream: unknown upstream "nowhere"');
    expect(capture.err()).toContain('MISSING_SECRET is not set');
  });

  it('check validates the same file with the same rules', async () => {
    const capture = captureIo({ NODE_ENV: 'development' });
    expect(await main(['check', '--config', 'bad.yaml'], capture.io)).toBe(1);
    expect(capture.out() + capture.err()).toContain('unknown upstream "nowhere"');
  });
});

describe('graceful shutdown', () => {
  it('finishes the requests in flight before it stops, and refuses new connections afterwards', async () => {
    const gateway = await startTestGateway({ config: { upstreams: { api: { url: upstream.url } }, routes: [{ match: { prefix: '/slow' }, upstream: 'api', public: true }] } });
    const held: ServerResponse[] = [];
    upstream.handle((_request, response) => held.push(response));
    try {
      const seen = upstream.seen.length;
      const inFlight = send(`${gateway.url}/slow/a`);
      await upstream.received(seen + 1);
      const stopped = gateway.close();
      // The request is still waiting on the upstream while the gateway drains.
      expect(gateway.running.gateway.runtime.inFlight).toBe(1);
      for (const response of held) {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('finished');
      }
      const response = await inFlight;
      expect(response.status).toBe(200);
      expect(response.text).toBe('finished');
      await stopped;
      await expect(send(`${gateway.url}/slow/b`)).rejects.toThrow();
    } finally {
      upstream.handle(undefined);
    }
  });
});

describe('reload on SIGHUP', () => {
  it('keeps serving the old config when the new one is invalid, and swaps in a valid one', async () => {
    const path = join(dir, 'reload.yaml');
    await writeFile(path, configYaml('  - { name: one, match: { prefix: /one }, upstream: api, public: true }\n'));
    const gateway = await startTestGateway({ config: undefined, configPath: path });
    const signals = new EventEmitter();
    const exited = runUntilSignal(gateway.running, signals as unknown as SignalSource);

    await writeFile(path, 'upstreams: [this is: not valid\n');
    const refused = gateway.logs.next('config reload refused: the new config is invalid; still serving the previous one');
    signals.emit('SIGHUP');
    await refused;
    expect((await send(`${gateway.url}/one/x`)).status).toBe(200);

    await writeFile(path, configYaml('  - { name: two, match: { prefix: /two }, upstream: api, public: true }\n'));
    const reloaded = gateway.logs.next('config reloaded');
    signals.emit('SIGHUP');
    expect(await reloaded).toMatchObject({ generation: 2 });
    expect((await send(`${gateway.url}/two/x`)).status).toBe(200);
    expect((await send(`${gateway.url}/one/x`)).status).toBe(404);

    signals.emit('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('swaps in changed signatureKeys: a removed secret stops verifying, a new one starts', async () => {
    const path = join(dir, 'reload-signature-keys.yaml');
    const oldSecret = 'old-partner-secret-'.padEnd(40, 'o');
    const newSecret = 'new-partner-secret-'.padEnd(40, 'n');
    const withSecret = (secret: string): string =>
      `${configYaml('  - { name: partner, match: { prefix: /partner }, upstream: api, auth: { type: signature } }\n')}signatureKeys:\n  partner: { algorithm: hmac-sha256, secret: "${secret}" }\n`;
    const signed = async (secret: string): Promise<number> => {
      const url = `${gateway.url}/partner/x`;
      const headers = signRequest({ method: 'GET', url, headers: {}, body: null }, { keyId: 'partner', algorithm: 'hmac-sha256', key: secret });
      return (await send(url, { headers: { ...headers } })).status;
    };
    await writeFile(path, withSecret(oldSecret));
    const gateway = await startTestGateway({ config: undefined, configPath: path });
    try {
      expect(await signed(oldSecret)).toBe(200);
      await writeFile(path, withSecret(newSecret));
      const result = await gateway.running.reload();
      expect(result).toMatchObject({ ok: true, restartNeeded: [] });
      expect(await signed(oldSecret), 'the secret removed from the file').toBe(401);
      expect(await signed(newSecret), 'the secret added to the file').toBe(200);
    } finally {
      await gateway.close();
    }
  });

  it('names sessions in restartNeeded: its trusted origins, cookie and store are bound at start-up', async () => {
    const path = join(dir, 'reload-sessions.yaml');
    const routes = configYaml('  - { name: one, match: { prefix: /one }, upstream: api, public: true }\n');
    await writeFile(path, `${routes}sessions: { trustedOrigins: ["https://old.example.com"] }\n`);
    const gateway = await startTestGateway({ config: undefined, configPath: path });
    try {
      await writeFile(path, `${routes}sessions: { trustedOrigins: [] }\n`);
      expect(await gateway.running.reload()).toMatchObject({ ok: true, restartNeeded: ['sessions'] });
    } finally {
      await gateway.close();
    }
  });
});

