import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * HTTP/1.1 over a bare socket: for what an HTTP client library refuses to send (bad methods,
 * header folding, duplicate Content-Length, bytes that are not UTF-8, bodies that stall). The
 * request is written as given, piece by piece with optional pauses (a body shorter than its
 * Content-Length is a stalled client); the whole answer is read until the server closes the
 * connection (requests say `Connection: close`) or `timeoutMs` passes.
 */

export interface RawRequest {
  /** Request line and headers, each line ending in CRLF, and the empty line. */
  readonly head: Buffer | string;
  /** Body pieces, written in order. */
  readonly body?: readonly (Buffer | string)[];
  /** Pause before each body piece (a slow client). @default 0 */
  readonly pauseMs?: number;
}

export interface RawResponse {
  /** 0 when no status line arrived. */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body of the first response (framed by its Content-Length, or de-chunked). */
  readonly body: string;
  /** Bytes the server sent after the first response: a second answer to one request. */
  readonly trailing: string;
  /** How the exchange ended: the server closed it, or the client gave up. */
  readonly ended: 'closed' | 'timeout' | 'error';
  readonly error: string | undefined;
  readonly ms: number;
}

export function parseResponse(raw: Buffer): Pick<RawResponse, 'status' | 'headers' | 'body' | 'trailing'> {
  const text = raw.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  if (split === -1) return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), headers: {}, body: '', trailing: '' };
  const [statusLine = '', ...headerLines] = text.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = raw.subarray(split + 4);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    const { body, used } = dechunk(rest);
    return { status, headers, body: body.toString('utf8'), trailing: rest.subarray(used).toString('latin1') };
  }
  const length = headers['content-length'] === undefined ? rest.length : Number(headers['content-length']);
  return { status, headers, body: rest.subarray(0, length).toString('utf8'), trailing: rest.subarray(length).toString('latin1') };
}

function dechunk(data: Buffer): { body: Buffer; used: number } {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < data.length) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd === -1) break;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isFinite(size)) break;
    if (size === 0) {
      // The last chunk, then trailers (none expected) and the final CRLF.
      const end = data.indexOf('\r\n\r\n', lineEnd);
      return { body: Buffer.concat(parts), used: end === -1 ? data.length : end + 4 };
    }
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return { body: Buffer.concat(parts), used: data.length };
}

export function rawExchange(port: number, request: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  const startedAt = performance.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    let error: string | undefined;
    const finish = (ended: RawResponse['ended']): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parseResponse(Buffer.concat(chunks)), ended, error, ms: performance.now() - startedAt });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (cause: NodeJS.ErrnoException) => {
      error = cause.code ?? cause.message;
      // A reset after a complete answer still counts as that answer.
      finish(chunks.length > 0 ? 'closed' : 'error');
    });
    socket.on('close', () => finish('closed'));
    socket.on('connect', () => {
      void (async () => {
        socket.write(request.head);
        for (const piece of request.body ?? []) {
          if ((request.pauseMs ?? 0) > 0) await sleep(request.pauseMs);
          if (socket.destroyed) return;
          socket.write(piece);
        }
        // No half-close: requests say `Connection: close`, and a client that stalls simply sends no more.
      })();
    });
  });
}
