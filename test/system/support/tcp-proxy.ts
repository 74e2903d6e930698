import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a free loopback port in front of Redis or PostgreSQL, so a test can break the
 * link without touching the server behind it (the machine's PostgreSQL is never stopped):
 *
 * - `delayReplies(ms)`: every chunk from the server reaches the client `ms` later (order kept) —
 *   a slow network or an overloaded server;
 * - `refuse()`: every open connection is reset and the port stops listening, so new connections
 *   are refused — what a client sees of a stopped server;
 * - `partition()`: connections stay open and new ones are accepted, but nothing passes either way
 *   — packets dropped, no reset. As with TCP retransmission, the bytes are not lost: `restore()`
 *   delivers them, late, in order;
 * - `restore()`: back to forwarding.
 *
 * Hand-written (about 150 lines over node:net) because the fault modes are the point, and each is
 * a few lines here.
 */
export interface TcpProxy {
  readonly port: number;
  delayReplies(ms: number): void;
  refuse(): Promise<void>;
  partition(): void;
  restore(): Promise<void>;
  /** Resolves when client bytes matching `match` (all by default) are held by the partition: a request is stuck in it. */
  nextHeld(match?: (chunk: Buffer) => boolean): Promise<void>;
  close(): Promise<void>;
}

type Mode = 'forward' | 'refuse' | 'partition';

/** One client connection and its connection to the server (opened at once, or after a partition). */
interface Pair {
  readonly client: Socket;
  server: Socket | undefined;
  /** Bytes held by a partition, per direction, in arrival order. */
  readonly toServer: Buffer[];
  readonly toClient: Buffer[];
  /** When the next reply chunk may be written (keeps delayed replies in order). */
  releaseAt: number;
}

export async function startTcpProxy(target: { readonly host: string; readonly port: number }): Promise<TcpProxy> {
  let mode: Mode = 'forward';
  let delayMs = 0;
  const pairs = new Set<Pair>();
  let heldWaiters: { readonly match: (chunk: Buffer) => boolean; readonly resolve: () => void }[] = [];

  const destroy = (pair: Pair): void => {
    pair.client.destroy();
    pair.server?.destroy();
    pairs.delete(pair);
  };

  const toClient = (pair: Pair, chunk: Buffer): void => {
    if (delayMs === 0 && pair.releaseAt <= performance.now()) {
      pair.client.write(chunk);
      return;
    }
    pair.releaseAt = Math.max(performance.now() + delayMs, pair.releaseAt);
    setTimeout(() => {
      if (!pair.client.destroyed) pair.client.write(chunk);
    }, pair.releaseAt - performance.now());
  };

  const openServer = (pair: Pair): void => {
    const server = connect(target.port, target.host);
    pair.server = server;
    server.on('error', () => destroy(pair));
    server.on('close', () => destroy(pair));
    server.on('data', (chunk: Buffer) => {
      if (mode === 'partition') pair.toClient.push(chunk);
      else toClient(pair, chunk);
    });
    for (const chunk of pair.toServer.splice(0)) server.write(chunk);
  };

  const onConnection = (client: Socket): void => {
    const pair: Pair = { client, server: undefined, toServer: [], toClient: [], releaseAt: 0 };
    pairs.add(pair);
    client.on('error', () => undefined);
    client.on('close', () => destroy(pair));
    client.on('data', (chunk: Buffer) => {
      if (mode === 'partition' || pair.server === undefined) {
        pair.toServer.push(chunk);
        if (mode === 'partition') {
          const matched = heldWaiters.filter((waiter) => waiter.match(chunk));
          heldWaiters = heldWaiters.filter((waiter) => !matched.includes(waiter));
          for (const waiter of matched) waiter.resolve();
        }
      } else {
        pair.server.write(chunk);
      }
    });
    if (mode !== 'partition') openServer(pair);
  };

  let listener: Server = createServer(onConnection);
  const listen = (server: Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        resolve(address !== null && typeof address !== 'string' ? address.port : port);
      });
    });
  const closeListener = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

  const port = await listen(listener, 0);
  let listening = true;

  return {
    port,
    delayReplies(ms) {
      delayMs = ms;
    },
    async refuse() {
      mode = 'refuse';
      for (const pair of [...pairs]) {
        pair.client.resetAndDestroy();
        pair.server?.destroy();
        pairs.delete(pair);
      }
      if (listening) {
        listening = false;
        await closeListener(listener);
      }
    },
    partition() {
      mode = 'partition';
    },
    async restore() {
      const wasPartitioned = mode === 'partition';
      mode = 'forward';
      if (wasPartitioned) {
        for (const pair of pairs) {
          if (pair.server === undefined) {
            openServer(pair);
          } else {
            for (const chunk of pair.toServer.splice(0)) pair.server.write(chunk);
          }
          for (const chunk of pair.toClient.splice(0)) toClient(pair, chunk);
        }
      }
      if (!listening) {
        listener = createServer(onConnection);
        await listen(listener, port);
        listening = true;
      }
    },
    nextHeld: (match = () => true) => new Promise((resolve) => heldWaiters.push({ match, resolve })),
    async close() {
      for (const pair of [...pairs]) destroy(pair);
      if (listening) {
        listening = false;
        await closeListener(listener);
      }
    },
  };
}
