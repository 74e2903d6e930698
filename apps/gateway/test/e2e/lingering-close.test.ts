import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/**
 * A request refused before its body was read (here 413, a chunked body past a 1 KB limit) must
 * reach the client as an answer, however much body the client is still sending: the gateway
 * half-closes and reads the rest before closing (RFC 9112 §9.6), instead of closing with unread
 * bytes, which resets the connection and can erase the answer before the client reads it.
 */

let upstream: TestUpstream;
let gateway: TestGateway;
let port: number;

beforeAll(async () => {
  upstream = await startUpstream();
  gateway = await startTestGateway({
    config: {
      upstreams: { api: { url: upstream.url } },
      routes: [{ name: 'upload', match: { path: '/upload', methods: ['POST'] }, upstream: 'api', public: true, bodyLimit: '1kb', safeJson: false }],
    },
  });
  port = Number(new URL(gateway.url).port);
});

afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

interface Outcome {
  readonly status: number;
  /** What ended the exchange on the client's side: the server's close, or a reset. */
  readonly ended: 'closed' | 'reset';
}

/**
 * Writes the head, `chunks` chunks of 64 KB and the last chunk, as fast as the socket takes them;
 * with `brokenAt`, a chunk with a malformed size line in that place instead.
 */
function upload(chunks: number, brokenAt?: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let ended: Outcome['ended'] = 'closed';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('error', () => {
      ended = 'reset';
    });
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), ended }));
    socket.on('connect', () => {
      socket.write('POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n');
      const piece = `10000\r\n${'x'.repeat(0x10000)}\r\n`;
      for (let index = 0; index < chunks && !socket.destroyed; index += 1) socket.write(index === brokenAt ? 'zz\r\nabc\r\n' : piece);
      if (!socket.destroyed) socket.write('0\r\n\r\n');
    });
  });
}

describe('an answer before the body was read', () => {
  it('reaches the client every time, with no reset, while the client is still sending 4 MB', async () => {
    const outcomes: Outcome[] = [];
    for (let attempt = 0; attempt < 20; attempt += 1) outcomes.push(await upload(64));
    expect(outcomes).toEqual(Array.from({ length: 20 }, () => ({ status: 413, ended: 'closed' })));
  });

  // Regression: a parse error in the rest of the body (here a malformed chunk size) closed the
  // connection at once, with the client's bytes still arriving: the same reset, erasing the 413.
  it('reaches the client when the rest of the body turns out malformed', async () => {
    const outcomes: Outcome[] = [];
    for (let attempt = 0; attempt < 20; attempt += 1) outcomes.push(await upload(64, 8));
    expect(outcomes).toEqual(Array.from({ length: 20 }, () => ({ status: 413, ended: 'closed' })));
  });
});
