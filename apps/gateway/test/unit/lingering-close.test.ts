import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { lingerBeforeClose, type LingerLimits } from '../../src/pipeline/lingering-close.js';

/**
 * The staged close: the server keeps reading after its answer (so a client still sending is not
 * reset), and a client that never finishes its body can neither hold the connection open nor make
 * the server read without end: each test would hang if its bound did not end the lingering. (After
 * the server's FIN a silent client cannot tell when the server closed, so the server's side of the
 * connection is what is observed.)
 */

let server: Server | undefined;
const clients: Socket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

/**
 * A server that refuses every request at once with 413, lingering within `limits`. Resolves its
 * port, and the close of its side of the first connection with the bytes it had read by then.
 */
async function refusingServer(limits: LingerLimits): Promise<{ port: number; serverSideClosed: Promise<number> }> {
  let closed!: (bytesRead: number) => void;
  const serverSideClosed = new Promise<number>((resolve) => (closed = resolve));
  server = createServer((request, response) => {
    const socket = request.socket;
    socket.once('close', () => closed(socket.bytesRead));
    response.setHeader('connection', 'close');
    lingerBeforeClose(request, limits);
    response.statusCode = 413;
    response.end('too large');
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, serverSideClosed };
}

const CHUNK = `400\r\n${'x'.repeat(0x400)}\r\n`;
const chunks = (bytes: number): string => CHUNK.repeat(Math.ceil(bytes / 0x400));

interface ClientOutcome {
  /** What the client read. */
  readonly answer: string;
  /** Whether its connection was reset (a write after the server's close). */
  readonly reset: boolean;
}

/**
 * A client that keeps its side open (the server's FIN does not close it), sends the head and
 * `before` bytes of a chunked body, and once the answer has arrived sends `after` more bytes, and
 * the last chunk when `finish`. Resolves when the connection is closed or reset, or with the
 * answer once the server has half-closed and the client has nothing more to send.
 */
function stubbornClient(port: number, body: { readonly before: number; readonly after?: number; readonly finish?: boolean }): Promise<ClientOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    clients.push(socket);
    let answer = '';
    let reset = false;
    let answered = false;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
      if (answered || !answer.includes('too large')) return;
      answered = true;
      if (body.after !== undefined) socket.write(chunks(body.after));
      if (body.finish === true) socket.end('0\r\n\r\n');
    });
    socket.on('error', () => {
      reset = true;
    });
    socket.on('close', () => resolve({ answer, reset }));
    socket.on('end', () => {
      if (body.finish !== true) resolve({ answer, reset });
    });
    socket.on('connect', () => socket.write(`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunks(body.before)}`));
  });
}

describe('lingerBeforeClose', () => {
  it('reads what the client sends after the answer and closes once the body ends, without a reset', async () => {
    const { port, serverSideClosed } = await refusingServer({ ms: 60 * 60 * 1000, bytes: 1024 * 1024 });
    const outcome = await stubbornClient(port, { before: 4096, after: 64 * 1024, finish: true });
    expect(outcome).toEqual({ answer: expect.stringMatching(/^HTTP\/1\.1 413 /) as unknown, reset: false });
    expect(await serverSideClosed).toBeGreaterThan(64 * 1024);
  });

  it('closes after its time bound when the client sends a little and then nothing, never finishing', async () => {
    const { port, serverSideClosed } = await refusingServer({ ms: 50, bytes: 1024 * 1024 });
    expect((await stubbornClient(port, { before: 4096 })).answer).toMatch(/^HTTP\/1\.1 413 /);
    await serverSideClosed;
  });

  it('closes after its byte bound when the client keeps sending, whatever the time bound', async () => {
    const { port, serverSideClosed } = await refusingServer({ ms: 60 * 60 * 1000, bytes: 64 * 1024 });
    expect((await stubbornClient(port, { before: 1024 * 1024 })).answer).toMatch(/^HTTP\/1\.1 413 /);
    await serverSideClosed;
  });
});
