import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * The service behind the gateways, in the test process: answers 200 with a small JSON body after
 * reading the request. `hang(true)` makes it accept requests and never answer (until `hang(false)`
 * or close) — an upstream stuck on a lock. Counts what reached it, per path prefix.
 */
export interface SystemUpstream {
  readonly url: string;
  /** Requests received since start (or the last `resetCount`). */
  received(): number;
  /** Requests received whose path starts with `prefix`. */
  receivedUnder(prefix: string): number;
  resetCount(): void;
  hang(on: boolean): void;
  /** Answers held requests (those whose path `which` accepts; all by default) with a 200. */
  releaseHeld(which?: (path: string) => boolean): void;
  /** Resolves when `count` requests are currently held by `hang`. */
  held(count: number): Promise<void>;
  /** Resolves when `count` more held requests (from now) have been abandoned by the caller (its connection closed). */
  abandoned(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSystemUpstream(): Promise<SystemUpstream> {
  let total = 0;
  const byPath = new Map<string, number>();
  let hanging = false;
  const heldResponses = new Map<ServerResponse, string>();
  const heldWaiters: { count: number; resolve: () => void }[] = [];
  let abandonedCount = 0;
  const abandonedWaiters: { count: number; resolve: () => void }[] = [];
  const sockets = new Set<Socket>();

  const answer = (response: ServerResponse): void => {
    if (response.destroyed || response.writableEnded) return;
    response.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
    response.end('{"ok":true}');
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      total += 1;
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      byPath.set(path, (byPath.get(path) ?? 0) + 1);
      if (hanging || path.includes('/hang')) {
        heldResponses.set(response, path);
        response.on('close', () => {
          // Closed while still held: the gateway gave up on it (released ones are deleted first).
          if (!heldResponses.delete(response)) return;
          abandonedCount += 1;
          for (const waiter of abandonedWaiters.filter((candidate) => abandonedCount >= candidate.count)) {
            abandonedWaiters.splice(abandonedWaiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        });
        for (const waiter of heldWaiters.filter((candidate) => heldResponses.size >= candidate.count)) {
          heldWaiters.splice(heldWaiters.indexOf(waiter), 1);
          waiter.resolve();
        }
        return;
      }
      answer(response);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    received: () => total,
    receivedUnder: (prefix) => [...byPath].filter(([path]) => path.startsWith(prefix)).reduce((sum, [, count]) => sum + count, 0),
    resetCount() {
      total = 0;
      byPath.clear();
    },
    hang(on) {
      hanging = on;
    },
    releaseHeld(which = () => true) {
      for (const [response, path] of [...heldResponses]) {
        if (!which(path)) continue;
        heldResponses.delete(response);
        answer(response);
      }
    },
    held(count) {
      if (heldResponses.size >= count) return Promise.resolve();
      return new Promise((resolve) => heldWaiters.push({ count, resolve }));
    },
    abandoned(count) {
      const target = abandonedCount + count;
      return new Promise((resolve) => abandonedWaiters.push({ count: target, resolve }));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
