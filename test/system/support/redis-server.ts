import { spawn, type ChildProcess } from 'node:child_process';
import { exited, stopChild, track, type Exit } from './children.js';
import { freePort } from './ports.js';

/**
 * A private `redis-server` on a free loopback port, for the tests that kill, slow or cut Redis (the
 * machine's shared Redis is never touched). No persistence: a restarted server is empty, like a
 * replacement node after a crash.
 */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** The pid of the current process (changes on restart). */
  pid(): number | undefined;
  /** SIGKILL: a crash, no goodbye to the clients. */
  kill(): Promise<Exit>;
  /** Starts it again on the same port (after `kill`). */
  restart(): Promise<void>;
  /** Stops it for good (afterAll). */
  stop(): Promise<void>;
}

const READY = /Ready to accept connections/;

export interface RedisServerOptions {
  /** Words run before `redis-server` (the benchmarks pin it to a CPU with `taskset -c N`). @default [] */
  readonly commandPrefix?: readonly string[];
}

function launch(port: number, commandPrefix: readonly string[]): Promise<ChildProcess> {
  const [command = 'redis-server', ...args] = [...commandPrefix, 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'notice'];
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (READY.test(output)) {
        child.stdout?.off('data', onData);
        // Keep draining: a full pipe would block the server.
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.resume();
    child.once('error', reject);
    void exited(child).then(({ code, signal }) => reject(new Error(`redis-server on port ${port} exited before it was ready (code ${String(code)}, signal ${String(signal)}):\n${output}`)));
  });
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const prefix = options.commandPrefix ?? [];
  let child: ChildProcess | undefined = await launch(port, prefix);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => child?.pid,
    async kill() {
      const current = child;
      child = undefined;
      if (current === undefined) return { code: null, signal: null };
      return stopChild(current, 'SIGKILL');
    },
    async restart() {
      if (child !== undefined) throw new Error('redis-server is still running');
      child = await launch(port, prefix);
    },
    async stop() {
      const current = child;
      child = undefined;
      if (current !== undefined) await stopChild(current, 'SIGTERM', 5000);
    },
  };
}
