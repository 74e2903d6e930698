import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createRevocationBus } from 'bulwark/auth';
import { createMetricsRegistry } from 'bulwark/observability';
import { createRateLimiter, createRedisStore, RATE_LIMIT_REDIS_OPTIONS } from 'bulwark/ratelimit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/kit.js';

/**
 * deploy/compose/redis/entrypoint.sh, run for real against this machine's redis-server on a port of
 * its own: the ACL it writes lets the gateway's rate limits and revocation broadcasts work under the
 * `bulwark:` prefix, and refuses everything else.
 */

const ENTRYPOINT = join(REPO_ROOT, 'deploy/compose/redis/entrypoint.sh');
const password = randomBytes(32).toString('hex');
const scratch = mkdtempSync(join(tmpdir(), 'bulwark-redis-acl-'));
let server: ChildProcess;
let port: number;
const clients: Redis[] = [];

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function connect(options: { username?: string; password?: string } = {}): Promise<Redis> {
  const client = new Redis({ host: '127.0.0.1', port, ...RATE_LIMIT_REDIS_OPTIONS, ...options, lazyConnect: true, retryStrategy: () => null });
  clients.push(client);
  client.on('error', () => undefined); // failures surface as rejected commands
  await client.connect();
  return client;
}

beforeAll(async () => {
  port = await freePort();
  server = spawn('sh', [ENTRYPOINT, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', scratch], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', REDIS_PASSWORD: password, REDIS_ACL_FILE: join(scratch, 'users.acl') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  server.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ping = spawnSync('redis-cli', ['-p', String(port), '--user', 'bulwark', '--no-auth-warning', 'ping'], { env: { ...process.env, REDISCLI_AUTH: password }, encoding: 'utf8' });
    if (ping.error !== undefined) throw new Error(`redis-cli is needed for this test (apt-get install redis-tools): ${ping.error.message}`);
    if (ping.stdout.trim() === 'PONG') break;
    if (server.exitCode !== null || Date.now() > deadline) throw new Error(`the Redis entrypoint did not start Redis: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  if (server !== undefined && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(scratch, { recursive: true, force: true });
});

describe('the Redis ACL of the compose deployment', () => {
  it('refuses unauthenticated clients, the default user and a wrong password', () => {
    const cli = (user: string | undefined, secret: string | undefined): string => {
      const args = ['-p', String(port), '--no-auth-warning', ...(user === undefined ? [] : ['--user', user]), 'ping'];
      const env = secret === undefined ? { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } : { PATH: process.env['PATH'] ?? '/usr/bin:/bin', REDISCLI_AUTH: secret };
      const run = spawnSync('redis-cli', args, { env, encoding: 'utf8' });
      return `${run.stdout}${run.stderr}`.trim();
    };
    expect(cli(undefined, undefined)).toMatch(/NOAUTH/);
    expect(cli('default', password)).toMatch(/WRONGPASS/);
    expect(cli('bulwark', `${password}x`)).toMatch(/WRONGPASS/);
    expect(cli('bulwark', password)).toBe('PONG');
  });

  it('lets the gateway rate-limit under bulwark: (Lua scripts on its keys)', async () => {
    const client = await connect({ username: 'bulwark', password });
    const store = createRedisStore({ client, namespace: 'bulwark:rl:', registry: createMetricsRegistry({ defaultMetrics: false }) });
    const limiter = createRateLimiter({ name: 'acl-check', limit: 2, windowMs: 60_000, store, onStoreFailure: 'closed', registry: createMetricsRegistry({ defaultMetrics: false }) });
    const decisions = [await limiter.consume('client-1'), await limiter.consume('client-1'), await limiter.consume('client-1')];
    expect(decisions.map((decision) => [decision.allowed, decision.reason])).toEqual([
      [true, 'ok'],
      [true, 'ok'],
      [false, 'limited'],
    ]);
  });

  it('lets the gateway broadcast and receive key revocations on bulwark:revocations', async () => {
    const publisher = await connect({ username: 'bulwark', password });
    const subscriber = await connect({ username: 'bulwark', password });
    const bus = createRevocationBus({ redis: publisher, subscriber, channel: 'bulwark:revocations' });
    await bus.ready;
    expect(await publisher.publish('bulwark:revocations', 'not a revocation message')).toBeGreaterThanOrEqual(0);
    await bus.close();
  });

  it('refuses keys and channels outside the prefix, and the dangerous and admin commands', async () => {
    const client = await connect({ username: 'bulwark', password });
    await expect(client.set('other:key', '1')).rejects.toThrow(/NOPERM/);
    await expect(client.publish('other-channel', 'x')).rejects.toThrow(/NOPERM/);
    await expect(client.flushall()).rejects.toThrow(/NOPERM/);
    await expect(client.keys('bulwark:*')).rejects.toThrow(/NOPERM/);
    await expect(client.call('CONFIG', 'GET', 'requirepass')).rejects.toThrow(/NOPERM/);
    await expect(client.call('ACL', 'LIST')).rejects.toThrow(/NOPERM/);
    expect(await client.set('bulwark:probe', '1', 'EX', 5)).toBe('OK');
  });

  it('refuses to start with a short password or one that cannot go into a URL', () => {
    for (const bad of ['short', `${'a'.repeat(40)}@host`, '']) {
      const run = spawnSync('sh', [ENTRYPOINT, '--port', '0'], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', REDIS_PASSWORD: bad, REDIS_ACL_FILE: join(scratch, 'refused.acl') }, encoding: 'utf8' });
      expect(run.status, JSON.stringify(bad)).not.toBe(0);
      expect(run.stderr).toMatch(/REDIS_PASSWORD/);
    }
  });
});
