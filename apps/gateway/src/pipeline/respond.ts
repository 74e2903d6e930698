import type { IncomingMessage, ServerResponse } from 'node:http';
import { PROBLEM_CONTENT_TYPE, toApiError, toProblem, type ApiError } from 'bulwark/errors';
import type { Exchange } from './exchange.js';
import { lingerBeforeClose } from './lingering-close.js';

export interface ProblemOptions {
  readonly requestId: string;
  readonly exposeErrors: boolean;
  /** Extra headers (rate-limit fields) that belong on the response whatever its status. */
  readonly extraHeaders?: Readonly<Record<string, string>> | undefined;
}

/**
 * Writes an RFC 9457 problem for anything thrown. Internal errors become `INTERNAL_ERROR` with a
 * generic detail (the cause goes to the log, never to the client unless `exposeErrors`). When the
 * response has already started, the connection is closed instead: a second status line would be
 * worse than a truncated body.
 */
export function writeProblem(response: ServerResponse, thrown: unknown, options: ProblemOptions): ApiError {
  const problem = toProblem(thrown, { requestId: options.requestId, exposeErrors: options.exposeErrors });
  if (response.headersSent) {
    response.destroy();
    return problem.error;
  }
  const body = JSON.stringify(problem.body);
  response.statusCode = problem.status;
  if (options.extraHeaders !== undefined) {
    for (const name in options.extraHeaders) {
      const value = options.extraHeaders[name];
      if (value !== undefined) response.setHeader(name, value);
    }
  }
  for (const name in problem.headers) {
    const value = problem.headers[name];
    if (value !== undefined) response.setHeader(name, value);
  }
  response.setHeader('content-type', PROBLEM_CONTENT_TYPE);
  response.setHeader('cache-control', 'no-store');
  response.setHeader('content-length', Buffer.byteLength(body));
  response.end(body);
  return problem.error;
}

/** Answers an exchange with a problem and records it for the access log. */
export function failExchange(exchange: Exchange, thrown: unknown, exposeErrors: boolean): void {
  closeIfBodyUnread(exchange.request, exchange.response);
  if (!exchange.response.headersSent) exchange.applyHeaders();
  const error = writeProblem(exchange.response, thrown, { requestId: exchange.requestId, exposeErrors });
  exchange.error = error;
  exchange.status = error.status;
}

/** The `ApiError` behind anything thrown (for logs and metrics). */
export { toApiError };

/**
 * When a request is refused before its body was read, the connection is closed after the answer
 * instead of reading (and discarding) a body of any size — in stages, so that the client reads the
 * answer before the close (see lingering-close.ts).
 */
export function closeIfBodyUnread(request: IncomingMessage, response: ServerResponse): void {
  if (response.headersSent || request.complete) return;
  const length = request.headers['content-length'];
  if ((length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined) {
    response.setHeader('connection', 'close');
    lingerBeforeClose(request);
  }
}
