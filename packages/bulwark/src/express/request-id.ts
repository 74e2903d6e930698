import type { Request, RequestHandler } from 'express';
import { REQUEST_ID_HEADER, REQUEST_ID_PATTERN, resolveRequestId } from '../observability/request-id.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** The request id set by Bulwark's `requestIdMiddleware()`: valid incoming `X-Request-ID` or a fresh UUIDv7. */
    requestId?: string;
  }
}

/**
 * Express middleware giving every request an id: the incoming `X-Request-ID` when it matches
 * `^[A-Za-z0-9._:-]{1,128}$` (exactly one value), otherwise a fresh UUIDv7. The id is stored as
 * `req.requestId` and echoed in the `X-Request-ID` response header, set now so that every response,
 * errors included, carries it. Mount it first.
 *
 * @example
 * app.use(requestIdMiddleware());
 * app.get('/', (req, res) => res.json({ id: req.requestId }));
 */
export function requestIdMiddleware(): RequestHandler {
  return function requestId(req, res, next) {
    const id = resolveRequestId(req.headers[REQUEST_ID_HEADER]);
    req.requestId = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    next();
  };
}

/**
 * The id of `req`: the one `requestIdMiddleware()` set or, when it did not run, one resolved now and
 * remembered on the request (so the error handler and the logs agree).
 */
export function requestIdOf(req: Request): string {
  if (typeof req.requestId === 'string' && REQUEST_ID_PATTERN.test(req.requestId)) return req.requestId;
  const id = resolveRequestId(req.headers[REQUEST_ID_HEADER]);
  req.requestId = id;
  return id;
}
