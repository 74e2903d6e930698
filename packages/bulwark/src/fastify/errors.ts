import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { fastifyPlugin } from 'fastify-plugin';
import { ApiError } from '../errors/api-error.js';
import { toProblem } from '../errors/problem.js';
import { STALE_CONTENT_HEADERS, problemHeaders } from '../errors/problem-headers.js';
import { resolveProblemHandlerOptions, type ProblemHandlerOptions, type ResolvedProblemHandlerOptions } from '../errors/problem-handler-options.js';
import { logProblem } from '../errors/problem-log.js';
import { REQUEST_ID_HEADER, REQUEST_ID_PATTERN, resolveRequestId } from '../observability/request-id.js';

export type { ProblemHandlerOptions } from '../errors/problem-handler-options.js';

/**
 * Installs Bulwark's error and not-found handlers on `app`: anything thrown (an `ApiError`,
 * Fastify's own errors such as a body too large, malformed JSON, an unsupported media type or a
 * failed schema, a plain `Error`, a thrown string, `null`) becomes an RFC 9457
 * `application/problem+json` response with a stable `code`, the `requestId` and the error's headers
 * (`Retry-After` …), logged at the level its severity picks with its cause redacted. Stacks and
 * internal messages stay in the logs unless `exposeErrors: true` is set explicitly.
 *
 * Handlers set on `app` apply to it and to the plugins registered after; a child context that sets
 * its own error handler overrides this one, as Fastify intends.
 *
 * @example
 * installProblemHandlers(app, { logger: app.log });
 */
export function installProblemHandlers(app: FastifyInstance, options: ProblemHandlerOptions = {}): void {
  const settings = resolveProblemHandlerOptions(options);
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    sendProblem(error, request, reply, settings);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    sendProblem(new ApiError('NOT_FOUND', { detail: 'No resource matches this method and path.' }), request, reply, settings);
  });
}

function sendProblem(error: unknown, request: FastifyRequest, reply: FastifyReply, settings: ResolvedProblemHandlerOptions): void {
  const requestId = REQUEST_ID_PATTERN.test(request.id) ? request.id : resolveRequestId(request.headers[REQUEST_ID_HEADER]);
  const problem = toProblem(error, {
    requestId,
    exposeErrors: settings.exposeErrors,
    ...(settings.typeBase === undefined ? {} : { typeBase: settings.typeBase }),
  });
  const route = request.routeOptions.url;
  logProblem(settings.logger, problem, { requestId, method: request.method, url: request.url, route });
  if (reply.sent || reply.raw.headersSent) {
    // The status line is gone; a truncated body must not pass for a complete one.
    if (!reply.raw.writableEnded) reply.raw.destroy();
    return;
  }
  for (const name of STALE_CONTENT_HEADERS) reply.removeHeader(name);
  reply.code(problem.status).headers(problemHeaders(problem)).header(REQUEST_ID_HEADER, requestId);
  void reply.send(JSON.stringify(problem.body));
}

const plugin: FastifyPluginCallback<ProblemHandlerOptions> = (app, options, done) => {
  try {
    installProblemHandlers(app, options);
    done();
  } catch (error) {
    done(error as Error);
  }
};

/**
 * {@link installProblemHandlers} as a plugin, registered with fastify-plugin so the handlers apply
 * to the application that registers it rather than to an encapsulated child.
 *
 * @example
 * await app.register(problemErrorsPlugin, { logger: app.log });
 */
export const problemErrorsPlugin = fastifyPlugin(plugin, { name: 'bulwark-problem-errors', fastify: '5.x' });
