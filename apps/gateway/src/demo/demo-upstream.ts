import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The demo service behind the gateway: a few JSON endpoints that show what the gateway forwards. */
export interface DemoUpstream {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_ECHO_BYTES = 64 * 1024;

/**
 * Starts the demo upstream on 127.0.0.1 and a free port: `GET /status`, `GET /hello` (who the
 * gateway says is calling: the `x-bulwark-*` identity headers) and `POST /echo`.
 */
export async function startDemoUpstream(): Promise<DemoUpstream> {
  const server: Server = createServer((request, response) => {
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      response.end(text);
    };
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && path === '/status') return send(200, { status: 'ok' });
    if (request.method === 'GET' && path === '/hello') {
      return send(200, {
        message: 'Hello from the demo upstream, through Bulwark.',
        caller: { keyId: request.headers['x-bulwark-key-id'], tenant: request.headers['x-bulwark-tenant'], scopes: request.headers['x-bulwark-scopes'] },
        requestId: request.headers['x-request-id'],
        forwardedFor: request.headers['x-forwarded-for'],
      });
    }
    if (request.method === 'POST' && path === '/echo') {
      const chunks: Buffer[] = [];
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_ECHO_BYTES) chunks.push(chunk);
      });
      request.on('end', () => send(200, { received: Buffer.concat(chunks).toString('utf8') }));
      return undefined;
    }
    return send(404, { error: 'no such demo endpoint', try: ['/hello', '/echo'] });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
