/**
 * Private Redis servers for the tests that kill, flush or partition Redis: each runs on its own
 * free loopback port, without persistence, and is stopped by pid. Waits are bounded and only for
 * real process start and stop.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A port nothing listens on right now: bind to port 0, read the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Sends one inline command and returns the first reply line, or undefined on any error. */
export function redisCommand(port: number, command: string, timeoutMs = 500): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (value: string | undefined): void => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.on('error', () => done(undefined));
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply);
    });
  });
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface RedisServer {
  readonly port: number;
  readonly pid: number | undefined;
  /** Stops the server (SIGKILL: a crash, not a shutdown) and waits for the process to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** Kills it and removes its directory. */
  stop(): Promise<void>;
}

export async function startRedisServer(options: { cluster?: boolean; port?: number } = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const directory = mkdtempSync(join(tmpdir(), 'bulwark-redis-'));
  let child: ChildProcess | undefined;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', directory, '--loglevel', 'warning'];
  if (options.cluster === true) args.push('--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000', '--cluster-require-full-coverage', 'no');

  const launch = async (): Promise<void> => {
    const process = spawn('redis-server', args, { stdio: 'ignore' });
    child = process;
    await waitUntil(async () => (await redisCommand(port, 'PING'))?.startsWith('+PONG') === true, 10_000, `redis-server on port ${port}`);
  };
  const kill = async (): Promise<void> => {
    const running = child;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await exited;
    child = undefined;
  };
  await launch();
  return {
    port,
    get pid() {
      return child?.pid;
    },
    kill,
    restart: launch,
    async stop() {
      await kill();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** A Redis Cluster of three masters (no replicas) on free loopback ports. */
export async function startRedisCluster(): Promise<{ readonly nodes: readonly RedisServer[]; stop(): Promise<void> }> {
  const nodes: RedisServer[] = [];
  try {
    for (let index = 0; index < 3; index += 1) nodes.push(await startRedisServer({ cluster: true }));
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout} ${created.stderr}`);
    for (const node of nodes) {
      await waitUntil(async () => {
        const info = spawnSync('redis-cli', ['-p', String(node.port), 'cluster', 'info'], { encoding: 'utf8', timeout: 2000 });
        return info.stdout.includes('cluster_state:ok');
      }, 20_000, `cluster state ok on ${node.port}`);
    }
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }
  return {
    nodes,
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}
