import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyPluginCallback, FastifyRequest } from 'fastify';
import { fastifyPlugin } from 'fastify-plugin';
import { ApiError } from '../errors/api-error.js';

/**
 * The raw request body for Fastify: a content-type parser with `parseAs: 'buffer'` keeps the exact
 * bytes on `request.rawBody` before JSON parsing, so that signatures and webhooks are verified over
 * what was sent — never over a re-serialised `request.body`.
 */

declare module 'fastify' {
  interface FastifyRequest {
    /** The body bytes exactly as received, when the {@link rawBodyParser} plugin parsed them. */
    rawBody?: Buffer;
  }
}

export interface RawBodyParserOptions {
  /**
   * Content types whose bytes are kept. JSON types (`…/json`, `…+json`) are then parsed with
   * Fastify's own JSON parser (prototype poisoning refused); any other type is handed to the route
   * as the raw `Buffer`. Use `'*'` to catch every type. @default ['application/json']
   */
  readonly contentTypes?: readonly (string | RegExp)[];
  /** Largest body accepted, in bytes; larger answers 413. @default the server's bodyLimit */
  readonly bodyLimit?: number;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;

const plugin: FastifyPluginCallback<RawBodyParserOptions> = (fastify: FastifyInstance, options, done) => {
  const contentTypes = options.contentTypes ?? ['application/json'];
  if (!Array.isArray(contentTypes) || contentTypes.length === 0) {
    done(new TypeError('contentTypes must be a non-empty array of content types'));
    return;
  }
  const bodyLimit = options.bodyLimit;
  if (bodyLimit !== undefined && !(Number.isSafeInteger(bodyLimit) && bodyLimit > 0)) {
    done(new TypeError('bodyLimit must be a positive integer number of bytes'));
    return;
  }
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.decorateRequest('rawBody', undefined);
  for (const contentType of contentTypes) {
    const isJson = typeof contentType === 'string' && JSON_TYPE.test(contentType);
    // Fastify refuses a second parser for a type: ours replaces the built-in one.
    if (fastify.hasContentTypeParser(contentType)) fastify.removeContentTypeParser(contentType);
    fastify.addContentTypeParser(contentType, { parseAs: 'buffer', ...(bodyLimit === undefined ? {} : { bodyLimit }) }, (request, body, parsed) => {
      const bytes = body as Buffer;
      request.rawBody = bytes;
      if (isJson) parseJson(request, bytes as unknown as string, parsed);
      else parsed(null, bytes);
    });
  }
  done();
};

/**
 * A Fastify plugin that keeps raw body bytes on `request.rawBody` (and still parses JSON into
 * `request.body`). Register it in the scope of the routes that verify signatures or webhooks.
 *
 * @example
 * await app.register(async (webhooks) => {
 *   await webhooks.register(rawBodyParser, { contentTypes: ['application/json'] });
 *   webhooks.post('/webhooks/stripe', { preHandler: requireWebhook(stripeWebhooks) }, handler);
 * });
 */
export const rawBodyParser = fastifyPlugin(plugin, { name: 'bulwark-raw-body', fastify: '5.x' });

/**
 * The raw bytes of `request`: `undefined` when the request had no body. When a body was parsed but
 * its bytes were not kept, verification cannot work: a server misconfiguration, thrown as an
 * internal error whose cause (logged, never sent) names the fix.
 */
export function rawBodyOfRequest(request: FastifyRequest): Buffer | undefined {
  if (Buffer.isBuffer(request.rawBody)) return request.rawBody;
  if (Buffer.isBuffer(request.body)) return request.body;
  if (request.body === undefined || request.body === null) return undefined;
  throw new ApiError('INTERNAL_ERROR', {
    detail: 'The server could not complete the request.',
    cause: new Error('the request body was parsed without keeping its raw bytes: register the rawBodyParser plugin for this content type in the route’s scope'),
  });
}

/**
 * The request headers one array entry per field line (Node's `headersDistinct`), so that a repeated
 * `Host` or webhook header is seen as repeated; the joined headers where the raw request has no
 * `headersDistinct` (light-my-request's `inject`).
 */
export function requestHeaderLines(request: FastifyRequest): NodeJS.Dict<string[]> | IncomingHttpHeaders {
  return (request.raw as { headersDistinct?: NodeJS.Dict<string[]> }).headersDistinct ?? request.headers;
}
