import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the test upstream saw of one request. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export type UpstreamHandler = (request: IncomingMessage, response: ServerResponse, body: Buffer) => void;

export interface TestUpstream {
  readonly url: string;
  readonly port: number;
  readonly seen: SeenRequest[];
  /** Replaces the behaviour (the default echoes the request as JSON). */
  handle(handler: UpstreamHandler | undefined): void;
  /** Resolves when the upstream has received `count` requests in total. */
  received(count: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A tiny real upstream on 127.0.0.1 and a free port. By default it answers 200 with a JSON echo of
 * the request (method, url, headers, body). Paths starting with `/status/<code>` answer that
 * status; `/hang` never answers (until the upstream closes).
 */
export async function startUpstream(): Promise<TestUpstream> {
  const seen: SeenRequest[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const sockets = new Set<Socket>();
  let custom: UpstreamHandler | undefined;

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: body.toString('utf8') });
      for (const waiter of waiters.filter((candidate) => seen.length >= candidate.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      if (custom !== undefined) {
        custom(request, response, body);
        return;
      }
      const url = request.url ?? '/';
      const status = /\/status\/(\d{3})/.exec(url);
      if (url.includes('/hang')) return;
      const payload = JSON.stringify({ method: request.method, url, headers: request.headers, body: body.toString('utf8') });
      response.writeHead(status === null ? 200 : Number(status[1]), {
        'content-type': 'application/json',
        'x-upstream': 'yes',
        'x-powered-by': 'test-upstream',
        'content-security-policy': "default-src *",
        connection: 'keep-alive, x-upstream-hop',
        'x-upstream-hop': 'must not reach the client',
      });
      response.end(payload);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    handle(handler) {
      custom = handler;
    },
    received(count) {
      if (seen.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
