import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ApiError } from '../errors/api-error.js';

/**
 * The raw request body for Express, kept as the exact bytes received. Signatures and webhooks are
 * computed over those bytes: verifying `JSON.stringify(req.body)` instead is the most common reason
 * webhook verification fails (key order, spacing and escapes change when JSON is re-serialised).
 */

declare module 'express-serve-static-core' {
  interface Request {
    /** The body bytes exactly as received, when captured by {@link captureRawBody} or {@link rawBody}. */
    rawBody?: Buffer;
  }
}

/**
 * A body-parser `verify` callback that keeps the raw bytes on `req.rawBody` while the parser goes on
 * to parse them. Use it with the parsers you already have.
 *
 * @example
 * app.use(express.json({ verify: captureRawBody }));
 */
export function captureRawBody(request: Request, _response: Response, buffer: Buffer): void {
  request.rawBody = buffer;
}

export interface RawBodyOptions {
  /** Largest body accepted (bytes, or a string such as `'1mb'`); larger answers 413. @default '1mb' */
  readonly limit?: number | string;
  /** Content types read as raw bytes. @default every type */
  readonly type?: string | readonly string[] | ((request: IncomingMessage) => boolean);
}

/**
 * Middleware that reads the body as bytes: `req.body` and `req.rawBody` are the same `Buffer`.
 * For routes that only verify (webhooks), or that parse the body themselves after verifying.
 *
 * @example
 * app.post('/webhooks/stripe', rawBody({ limit: '256kb' }), requireWebhook(stripeWebhooks), handler);
 */
export function rawBody(options: RawBodyOptions = {}): RequestHandler {
  const type = options.type ?? (() => true);
  return express.raw({ limit: options.limit ?? '1mb', type: (Array.isArray(type) ? [...type] : type) as string | string[] | ((request: IncomingMessage) => boolean), verify: captureRawBody });
}

/** The raw bytes of the request body if they were captured, else `undefined`. */
export function rawBodyOf(request: Request): Buffer | undefined {
  if (Buffer.isBuffer(request.rawBody)) return request.rawBody;
  return Buffer.isBuffer(request.body) ? request.body : undefined;
}

/** Whether the request announces a body (RFC 9112 §6.3: `Transfer-Encoding`, or a non-zero `Content-Length`). */
function announcesBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Makes sure the raw body is available before `next`: already captured, or read now when nobody has
 * read the stream yet. If a parser consumed it without keeping the bytes, verification cannot work:
 * that is a server misconfiguration, reported as an internal error that names the fix in the logs.
 */
export function ensureRawBody(request: Request, response: Response, limit: number | string, next: (error?: unknown) => void): void {
  if (rawBodyOf(request) !== undefined || !announcesBody(request)) {
    next();
    return;
  }
  const consumed = (request as { _body?: boolean })._body === true || request.readableEnded;
  if (!consumed) {
    rawBody({ limit })(request, response, next as NextFunction);
    return;
  }
  next(
    new ApiError('INTERNAL_ERROR', {
      detail: 'The server could not complete the request.',
      cause: new Error('the request body was parsed before its raw bytes were kept: add `verify: captureRawBody` to express.json(), or mount the verifier before the body parser'),
    }),
  );
}

/**
 * The request headers one array entry per field line (Node's `headersDistinct`), so that a repeated
 * `Host` or webhook header is seen as repeated; the joined headers where the request object has no
 * `headersDistinct` (test doubles, light-my-request).
 */
export function requestHeaderLines(request: Request): NodeJS.Dict<string[]> | IncomingHttpHeaders {
  return (request as { headersDistinct?: NodeJS.Dict<string[]> }).headersDistinct ?? request.headers;
}
