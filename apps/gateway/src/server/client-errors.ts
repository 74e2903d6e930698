import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { finished } from 'node:stream';
import { ApiError, PROBLEM_CONTENT_TYPE, toProblem } from 'bulwark/errors';
import { generateRequestId } from 'bulwark/observability';
import { lingerAfterParseError } from '../pipeline/lingering-close.js';
import { writeProblem } from '../pipeline/respond.js';

/**
 * Answers for what Node's HTTP parser refuses before (or while) the gateway handles a request: a
 * malformed request line or header, headers over the size limit, a request not received within
 * `requestTimeout`, broken body framing, CONNECT. Each gets a problem+json with a request id of its
 * own, never Node's bare status line, and never a second answer to a request already answered.
 *
 * Telling the cases apart needs the last response of each connection: a parse error in the body
 * of a request the gateway has already answered (say, 404 before reading the body) must not be
 * answered again, while a malformed request pipelined behind an answered one must be.
 */
export interface ClientErrors {
  /** Remembers the response now current on its connection (called for every request). */
  readonly track: (response: ServerResponse) => void;
  /** The server's `clientError` handler. */
  readonly handle: (error: Error & { readonly code?: string }, socket: Duplex) => void;
  /** The server's `connect` handler: CONNECT is not proxied. */
  readonly refuseConnect: (request: unknown, socket: Duplex) => void;
}

export function createClientErrors(): ClientErrors {
  // A WeakMap rather than a property on the socket: entries go with their connections.
  const current = new WeakMap<Duplex, ServerResponse>();

  const handle = (error: Error & { readonly code?: string }, socket: Duplex): void => {
    if (!socket.writable) {
      // Ended already (an answer that closes the connection was written): nothing more to say, but
      // the client may still be sending.
      lingerAfterParseError(socket);
      return;
    }
    const problem = clientProblem(error);
    const response = current.get(socket);
    if (response === undefined || response.req.complete) {
      // The error is in bytes after the last whole request: a request the gateway never saw. It is
      // answered after the previous answer, if that one is still being written.
      if (response === undefined || response.writableFinished) socket.end(rawProblem(problem));
      else finished(response, () => (socket.writable ? socket.end(rawProblem(problem)) : socket.destroy()));
      return;
    }
    // The error is in the body of the request being handled.
    if (response.headersSent) {
      // Already answered (or answering): no second answer; the connection closes once it is written
      // — in stages, as the client may still be sending (see lingering-close.ts).
      lingerAfterParseError(socket);
      return;
    }
    const requestId = response.getHeader('x-request-id');
    response.setHeader('connection', 'close');
    writeProblem(response, problem, { requestId: typeof requestId === 'string' ? requestId : generateRequestId(), exposeErrors: false });
  };

  return {
    // Keyed by the request's socket: a pipelined request's response has no socket until the
    // answers before it are written (`response.socket` is null then).
    track: (response) => current.set(response.req.socket, response),
    handle,
    refuseConnect: (_request, socket) => {
      socket.on('error', () => socket.destroy());
      socket.end(rawProblem(new ApiError('METHOD_NOT_ALLOWED', { detail: 'CONNECT is not supported: the gateway is not a forward proxy.' })));
    },
  };
}

/** The problem for an error of Node's HTTP parser or of its request timeout. */
function clientProblem(error: Error & { readonly code?: string }): ApiError {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError('REQUEST_TIMEOUT', { detail: 'The whole request was not received in time.' });
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError('HEADERS_TOO_LARGE', { detail: 'The request line and headers are over the size limit.' });
    default:
      return new ApiError('BAD_REQUEST', { detail: 'The request could not be parsed.' });
  }
}

/** A whole HTTP/1.1 response with a problem body, written on a socket no `ServerResponse` owns. */
function rawProblem(error: ApiError): string {
  const requestId = generateRequestId();
  const problem = toProblem(error, { requestId });
  const body = JSON.stringify(problem.body);
  const extra = Object.entries(problem.headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nX-Request-ID: ${requestId}\r\n${extra}Connection: close\r\n\r\n${body}`;
}

