import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopChild, track } from './children.js';

/** The proxy's controls (see tcp-proxy.ts), each resolving once the proxy process applied it. */
export interface TcpProxyProcess {
  readonly port: number;
  delayReplies(ms: number): Promise<void>;
  refuse(): Promise<void>;
  partition(): Promise<void>;
  restore(): Promise<void>;
  /** Resolves when client bytes are held by the partition. */
  nextHeld(): Promise<void>;
  close(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('./tcp-proxy-main.ts', import.meta.url));

/**
 * The TCP proxy of tcp-proxy.ts in a process of its own. In the test's process, a busy load
 * generator delays the proxy's forwarding by tens of milliseconds, which a 50 ms Redis deadline
 * sees as a slow Redis: the scenario would measure the test, not the gateway. Waiting for held
 * bytes with a predicate is not offered (a function cannot cross the process boundary).
 */
export async function startTcpProxyProcess(target: { readonly host: string; readonly port: number }): Promise<TcpProxyProcess> {
  const child = fork(MAIN, [`${target.host}:${target.port}`], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  track(child);
  const waiting = new Map<number, () => void>();
  let nextId = 0;
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the TCP proxy process exited (${code ?? 'signal'}) before it listened`)));
    child.on('message', (message: { readonly ready?: number; readonly id?: number }) => {
      if (message.ready !== undefined) resolve(message.ready);
      if (message.id !== undefined) {
        waiting.get(message.id)?.();
        waiting.delete(message.id);
      }
    });
  });
  const call = (op: string, ms?: number): Promise<void> =>
    new Promise((resolve) => {
      nextId += 1;
      waiting.set(nextId, resolve);
      child.send({ id: nextId, op, ms });
    });
  return {
    port,
    delayReplies: (ms) => call('delayReplies', ms),
    partition: () => call('partition'),
    refuse: () => call('refuse'),
    restore: () => call('restore'),
    nextHeld: () => call('nextHeld'),
    async close() {
      if (child.connected) await call('close');
      await stopChild(child, 'SIGTERM', 2000);
    },
  };
}
