import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import { fastifyPlugin } from 'fastify-plugin';
import { REQUEST_ID_HEADER, resolveRequestId } from '../observability/request-id.js';

/**
 * Fastify's `genReqId`: the incoming `X-Request-ID` when it matches `^[A-Za-z0-9._:-]{1,128}$`
 * (exactly one value), otherwise a fresh UUIDv7.
 */
export function genReqId(req: IncomingMessage): string {
  return resolveRequestId(req.headers[REQUEST_ID_HEADER]);
}

/**
 * Server options to spread into `fastify({...})`. `requestIdHeader: false` matters: with a header
 * name there, Fastify would take the header's raw value as the id, unvalidated, before `genReqId`.
 *
 * @example
 * const app = fastify({ ...requestIdServerOptions, loggerInstance: createLogger() });
 * await app.register(requestIdPlugin);
 */
export const requestIdServerOptions = Object.freeze({
  genReqId,
  requestIdHeader: false as const,
  requestIdLogLabel: 'requestId',
});

const plugin: FastifyPluginCallback = (app: FastifyInstance, _options, done) => {
  const header = (app.initialConfig as { requestIdHeader?: unknown }).requestIdHeader;
  if (typeof header === 'string' && header !== '') {
    done(new TypeError(`requestIdHeader must be false (got "${header}"): Fastify would trust the raw header value; use requestIdServerOptions`));
    return;
  }
  // Set on arrival, so a handler writing the raw response has it too, and again on send, because
  // the error path may build a fresh set of headers.
  app.addHook('onRequest', (request, reply, next) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    next();
  });
  app.addHook('onSend', (request, reply, payload, next) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    next(null, payload);
  });
  done();
};

/**
 * Fastify plugin that echoes the request id (`request.id`, from {@link genReqId}) in the
 * `X-Request-ID` header of every response, errors and 404s included. Registered with
 * fastify-plugin, so its hooks apply to the whole application.
 */
export const requestIdPlugin = fastifyPlugin(plugin, { name: 'bulwark-request-id', fastify: '5.x' });
