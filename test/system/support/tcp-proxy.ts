import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a free loopback port in front of Redis or PostgreSQL, so a test can break the
 * link without touching the server behind it (the machine's PostgreSQL is never stopped):
 *
 * - `delayReplies(ms)`: every chunk from the server reaches the client `ms` later (order kept) —
 *   a slow network or an overloaded server;
 * - `refuse()`: every open connection is reset and the port stops listening, so new connections
 *   are refused — what a client sees of a stopped server;
 * - `blackhole()`: connections stay open but nothing passes either way, and new ones are accepted
 *   and ignored — a network partition (packets dropped, no reset);
 * - `restore()`: back to forwarding (blackholed connections are reset, as a TCP keep-alive or
 *   the server's own timeout eventually would).
 *
 * Hand-written (about 100 lines over node:net) because the fault modes are the point, and each is a
 * few lines here.
 */
export interface TcpProxy {
  readonly port: number;
  delayReplies(ms: number): void;
  refuse(): Promise<void>;
  blackhole(): void;
  restore(): Promise<void>;
  /** Connections accepted so far (forwarded or not). */
  accepted(): number;
  close(): Promise<void>;
}

type Mode = 'forward' | 'refuse' | 'blackhole';

interface Pair {
  readonly client: Socket;
  readonly server: Socket | undefined;
}

export async function startTcpProxy(target: { readonly host: string; readonly port: number }): Promise<TcpProxy> {
  let mode: Mode = 'forward';
  let delayMs = 0;
  let acceptedCount = 0;
  const pairs = new Set<Pair>();

  const destroy = (pair: Pair): void => {
    pair.client.destroy();
    pair.server?.destroy();
    pairs.delete(pair);
  };

  const onConnection = (client: Socket): void => {
    acceptedCount += 1;
    client.on('error', () => undefined);
    if (mode === 'blackhole') {
      const pair: Pair = { client, server: undefined };
      pairs.add(pair);
      client.on('data', () => undefined);
      client.on('close', () => pairs.delete(pair));
      return;
    }
    const server = connect(target.port, target.host);
    const pair: Pair = { client, server };
    pairs.add(pair);
    server.on('error', () => destroy(pair));
    client.on('close', () => destroy(pair));
    server.on('close', () => destroy(pair));
    client.on('data', (chunk: Buffer) => {
      if (mode === 'forward') server.write(chunk);
    });
    // Replies are delayed chunk by chunk; `releaseAt` keeps them in order when the delay changes.
    let releaseAt = 0;
    server.on('data', (chunk: Buffer) => {
      if (mode !== 'forward') return;
      if (delayMs === 0 && releaseAt <= performance.now()) {
        client.write(chunk);
        return;
      }
      releaseAt = Math.max(performance.now() + delayMs, releaseAt);
      setTimeout(() => {
        if (mode === 'forward' && !client.destroyed) client.write(chunk);
      }, releaseAt - performance.now());
    });
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
    blackhole() {
      mode = 'blackhole';
    },
    async restore() {
      if (mode === 'blackhole') for (const pair of [...pairs]) destroy(pair);
      mode = 'forward';
      if (!listening) {
        listener = createServer(onConnection);
        await listen(listener, port);
        listening = true;
      }
    },
    accepted: () => acceptedCount,
    async close() {
      for (const pair of [...pairs]) destroy(pair);
      if (listening) {
        listening = false;
        await closeListener(listener);
      }
    },
  };
}
