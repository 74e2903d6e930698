import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { ApiError } from '../errors/api-error.js';
import { toProblem } from '../errors/problem.js';
import { STALE_CONTENT_HEADERS, problemHeaders } from '../errors/problem-headers.js';
import { resolveProblemHandlerOptions, type ProblemHandlerOptions } from '../errors/problem-handler-options.js';
import { logProblem } from '../errors/problem-log.js';
import { REQUEST_ID_HEADER } from '../observability/request-id.js';
import { requestIdOf } from './request-id.js';

export type { ProblemHandlerOptions } from '../errors/problem-handler-options.js';

/**
 * Express 5 error middleware that answers ANYTHING thrown or passed to `next(err)` (an `ApiError`,
 * a body-parser error such as a body too large or malformed JSON, a plain `Error`, a thrown string,
 * `null`) with an RFC 9457 `application/problem+json` document carrying a stable `code` and the
 * `requestId`, plus the error's own headers (`Retry-After` …). The error is logged at the level its
 * severity picks, with its cause redacted. Stack traces and internal messages stay in the logs
 * unless `exposeErrors: true` is set explicitly.
 *
 * If the response had already started, its status can no longer change: the connection is
 * destroyed, so the client sees a failed response rather than a truncated one that looks complete.
 * Mount it last, after {@link notFoundHandler}.
 *
 * @example
 * app.use(requestIdMiddleware());
 * app.use(express.json({ limit: '100kb' }));
 * app.use(routes);
 * app.use(notFoundHandler());
 * app.use(problemErrorHandler({ logger }));
 */
export function problemErrorHandler(options: ProblemHandlerOptions = {}): ErrorRequestHandler {
  const settings = resolveProblemHandlerOptions(options);
  // Express recognises error middleware by its four parameters; `next` is never called on purpose.
  return function problemErrors(error: unknown, req: Request, res: Response, _next: unknown): void {
    const requestId = requestIdOf(req);
    const problem = toProblem(error, {
      requestId,
      exposeErrors: settings.exposeErrors,
      ...(settings.typeBase === undefined ? {} : { typeBase: settings.typeBase }),
    });
    logProblem(settings.logger, problem, { requestId, method: req.method, url: req.originalUrl, route: routeOf(req) });
    if (res.headersSent) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    for (const name of STALE_CONTENT_HEADERS) res.removeHeader(name);
    const body = JSON.stringify(problem.body);
    res.statusCode = problem.status;
    for (const [name, value] of Object.entries(problemHeaders(problem))) res.setHeader(name, value);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    res.setHeader('content-length', Buffer.byteLength(body));
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

/**
 * Express middleware for requests no route answered: passes a `NOT_FOUND` {@link ApiError} to the
 * error handler, so unknown paths get the same problem+json shape as everything else.
 */
export function notFoundHandler(): RequestHandler {
  return function notFound(_req, _res, next) {
    next(new ApiError('NOT_FOUND', { detail: 'No resource matches this method and path.' }));
  };
}

/** The matched route pattern (`/orders/:id`), when a route matched; never the raw URL. */
function routeOf(req: Request): string | undefined {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : undefined;
}
