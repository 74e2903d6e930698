import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * A staged close for a connection answered before its request body was read (413, 401, 404…),
 * as RFC 9112 §9.6 asks of servers.
 *
 * Node closes such a connection as soon as the answer is handed to the kernel. If the client is
 * still sending its body, the kernel then holds unread bytes, and closing a socket with unread
 * bytes sends a reset — which can reach the client before it has read the answer and erase it:
 * the client sees ECONNRESET instead of its 413. So the gateway half-closes instead (the answer,
 * then FIN), keeps reading and discarding what the client still sends, and closes once the body
 * has ended — or after {@link LINGER_MS} or {@link LINGER_BYTES}, whichever comes first, so a client
 * cannot keep a connection open, or make the gateway read an unbounded body, by never finishing.
 */

/** The longest a connection lingers after its answer. */
export const LINGER_MS = 2000;
/**
 * The most bytes of an unread body discarded while lingering: enough for the rest of a sizeable
 * upload refused early (say, 401 on a CSV import), and a bound on the parsing one connection can cost.
 */
export const LINGER_BYTES = 16 * 1024 * 1024;

export interface LingerLimits {
  readonly ms: number;
  readonly bytes: number;
}

const lingering = new WeakSet<Socket>();

/**
 * Makes the close that Node performs after the answer to `request` (its `socket.destroySoon()`)
 * a lingering one. Call before the answer is written; later requests on the socket are unaffected
 * (the connection ends with this answer).
 */
export function lingerBeforeClose(request: IncomingMessage, limits: LingerLimits = { ms: LINGER_MS, bytes: LINGER_BYTES }): void {
  const socket = request.socket;
  if (lingering.has(socket)) return;
  lingering.add(socket);
  let discarded = 0;
  let lingeringNow = false;
  let timer: NodeJS.Timeout | undefined;
  const close = (): void => {
    clearTimeout(timer);
    request.off('data', discard);
    // Only once the answer and the FIN are out: destroying earlier would drop them.
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
  };
  const discard = (chunk: Buffer): void => {
    discarded += chunk.length;
    if (lingeringNow && discarded > limits.bytes) close();
  };
  // Listening from now on keeps Node from "dumping" the body after the answer: a dumped body is
  // parsed without 'data' events, so what the client still sends could not be counted. Paused
  // until the answer is out.
  request.on('data', discard);
  request.pause();
  const immediateClose = socket.destroySoon.bind(socket);
  socket.destroySoon = function lingeringClose(): void {
    if (request.complete || socket.destroyed) {
      request.off('data', discard);
      immediateClose();
      return;
    }
    lingeringNow = true;
    if (socket.writable) socket.end();
    timer = setTimeout(close, limits.ms);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    request.once('end', close);
    request.once('error', close);
    request.resume();
  };
}

/**
 * The same staged close for a connection whose request body Node's parser has rejected (a
 * malformed chunk, say) after the gateway answered: the parser is done with the connection, so its
 * reader is replaced by one that discards, the socket is ended once the answer is out, and it is
 * destroyed when the client ends its side — or after the same time and byte bounds.
 */
export function lingerAfterParseError(socket: Duplex, limits: LingerLimits = { ms: LINGER_MS, bytes: LINGER_BYTES }): void {
  let discarded = 0;
  const close = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  // The parser's own reader (Node's `socketOnData`) would feed a parser that has failed.
  socket.removeAllListeners('data');
  socket.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > limits.bytes) close();
  });
  socket.once('end', close);
  socket.once('close', () => clearTimeout(timer));
  const timer = setTimeout(close, limits.ms);
  timer.unref();
  socket.resume();
  if (socket.writable) socket.end();
}
