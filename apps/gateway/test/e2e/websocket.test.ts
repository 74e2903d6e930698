import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect as connectRaw, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/** WebSocket upgrades: authenticated before the upgrade, relayed with per-connection limits. */

let upstream: Server;
let upstreamPort: number;
let upstreamServer: WebSocketServer;
const handshakes: IncomingHttpHeaders[] = [];
let gateway: TestGateway;
let key: string;
let keyId: string;

beforeAll(async () => {
  upstream = createServer();
  const wss = new WebSocketServer({ server: upstream });
  upstreamServer = wss;
  wss.on('connection', (socket, request) => {
    handshakes.push(request.headers);
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamPort = (upstream.address() as AddressInfo).port;
  gateway = await startTestGateway({
    config: {
      upstreams: { chat: { url: `http://127.0.0.1:${upstreamPort}` } },
      routes: [
        {
          name: 'live',
          match: { prefix: '/live' },
          upstream: 'chat',
          stripPrefix: true,
          auth: { type: 'apiKey', scopes: ['live'] },
          cors: { origins: ['https://app.example.com'] },
          websocket: { enabled: true, maxConnectionsPerClient: 2, maxMessageBytes: '1kb', idleTimeoutMs: 60_000 },
        },
      ],
    },
  });
  ({ key, id: keyId } = await gateway.createKey(['live']));
});
afterAll(async () => {
  await gateway.close();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

const wsUrl = (path: string): string => `${gateway.url.replace('http', 'ws')}${path}`;

/** Opens a client; resolves with it once open, or with the status of a refused handshake. */
function connect(path: string, headers: Record<string, string>): Promise<{ socket: WebSocket } | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl(path), { headers });
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    socket.once('error', (error) => reject(error));
  });
}

const nextMessage = (socket: WebSocket): Promise<string> => new Promise((resolve) => socket.once('message', (data: Buffer) => resolve(data.toString('utf8'))));
const closed = (socket: WebSocket): Promise<number> => new Promise((resolve) => socket.once('close', (code) => resolve(code)));

describe('WebSocket upgrades', () => {
  it('refuses an unauthenticated handshake with a problem, before any upgrade', async () => {
    const refused = await connect('/live/room', {});
    expect(refused).toMatchObject({ status: 401 });
    if ('body' in refused) expect(JSON.parse(refused.body)).toMatchObject({ code: 'API_KEY_MISSING' });
  });

  it('refuses an origin that is not allowed (cross-site WebSocket hijacking)', async () => {
    const refused = await connect('/live/room', { 'x-api-key': key, origin: 'https://evil.example' });
    expect(refused).toMatchObject({ status: 403 });
  });

  it('relays messages both ways with the identity forwarded and the credential consumed', async () => {
    const opened = await connect('/live/room?x=1', { 'x-api-key': key, origin: 'https://app.example.com' });
    if (!('socket' in opened)) throw new Error(`refused: ${opened.status} ${opened.body}`);
    const { socket } = opened;
    const echo = nextMessage(socket);
    socket.send('hello');
    expect(await echo).toBe('hello');
    const handshake = handshakes.at(-1);
    expect(handshake?.['x-bulwark-key-id']).toBe(keyId);
    expect(handshake?.['x-api-key']).toBeUndefined();
    socket.close(1000);
    expect(await closed(socket)).toBe(1000);
  });

  it('limits connections per client (429) and closes on oversized messages (1009)', async () => {
    const first = await connect('/live/a', { 'x-api-key': key });
    const second = await connect('/live/b', { 'x-api-key': key });
    if (!('socket' in first) || !('socket' in second)) throw new Error('refused');
    const third = await connect('/live/c', { 'x-api-key': key });
    expect(third).toMatchObject({ status: 429 });

    const closing = closed(first.socket);
    first.socket.send('x'.repeat(2048));
    expect(await closing).toBe(1009);
    second.socket.close(1000);
    await closed(second.socket);
    // A slot is free again.
    const again = await connect('/live/d', { 'x-api-key': key });
    expect('socket' in again).toBe(true);
    if ('socket' in again) again.socket.close(1000);
  });

  // Regression: the upstream WebSocket was opened first, then the client's handshake was refused
  // by ws (400, no Sec-WebSocket-Key) and the upstream connection was left open — uncounted by
  // maxConnections, without idle timeout, one more per request.
  it('closes the upstream connection when the client handshake is refused after it opened', async () => {
    await vi.waitFor(() => expect(upstreamServer.clients.size).toBe(0));
    const port = Number(new URL(gateway.url).port);
    const socket = connectRaw(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(`GET /live/room HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nx-api-key: ${key}\r\n\r\n`);
    await ended;
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    await vi.waitFor(() => expect(upstreamServer.clients.size).toBe(0), { timeout: 3000 });
  });
});
