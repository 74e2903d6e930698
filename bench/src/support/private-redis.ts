/**
 * A private redis-server for one benchmark run: on a free loopback port, without persistence, so
 * that other clients of the machine's Redis neither disturb the figures nor see the benchmark's keys.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { pinned } from './cpu-pinning.js';

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  /** The server's version, as `redis-server --version` prints it. */
  readonly version: string;
  stop(): void;
}

/** A port nobody listens on right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server and waits (up to 10 s) until it answers PING.
 * @param cpus a `taskset` CPU list to run it on (see cpu-pinning.ts); anywhere when undefined
 */
export async function startPrivateRedis(cpus?: string): Promise<PrivateRedis> {
  const port = await freePort();
  const [command, args] = pinned(cpus, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning']);
  const child = spawn(command, args, { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!(await pong(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.split(' ')[2]?.replace('v=', '') ?? 'unknown';
  return { port, url: `redis://127.0.0.1:${port}`, process: child, version, stop: () => child.kill('SIGKILL') };
}

/** Whether a Redis answers PING on `port`. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => done(chunk.toString('utf8').startsWith('+PONG')));
  });
}
