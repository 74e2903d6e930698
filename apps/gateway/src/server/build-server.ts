import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ApiError } from 'bulwark/errors';
import type { LoggerLike } from 'bulwark/observability';
import type { TlsMaterial } from '../config/tls-files.js';
import type { PeerInfo } from '../pipeline/edge.js';
import { writeProblem } from '../pipeline/respond.js';
import type { RequestRecorder } from '../observability/request-recorder.js';
import type { WebSocketProxy } from '../proxy/websocket.js';
import { createClientErrors } from './client-errors.js';
import { createDispatcher } from './dispatch.js';
import { requestIdOf } from './request-id.js';
import type { RouteTable } from './route-table.js';
import type { GatewayRuntime } from './runtime.js';

/** The context a handler of the gateway's own endpoints gets. */
export interface BuiltinContext {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly peer: PeerInfo;
  readonly table: RouteTable;
}

/** A handler of one of the gateway's own endpoints: returns the JSON body (or sends itself). */
export type BuiltinHandler = (context: BuiltinContext) => unknown;

/** Registers the gateway's own endpoints (health, metrics, CSP reports, admin) on the server. */
export type BuiltinRegistrar = (server: FastifyInstance, builtin: (label: string, handler: BuiltinHandler) => (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) => void;

export interface ServerOptions {
  readonly runtime: GatewayRuntime;
  readonly recorder: RequestRecorder;
  readonly logger: LoggerLike;
  readonly tls: TlsMaterial | undefined;
  readonly keepAliveTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Endpoint groups; each registers its routes through `builtin`, which adds the edge, errors and records. */
  readonly builtins: readonly BuiltinRegistrar[];
  /** Upgrades of routes with `websocket.enabled`. */
  readonly websockets: WebSocketProxy;
  /** Whether a path belongs to the gateway's own endpoints (served by Fastify); every other path is proxied. */
  readonly isBuiltinPath: (path: string) => boolean;
}

const EMPTY_QUERY = Object.freeze({});
/** How often Node checks connections for `requestTimeout`/`headersTimeout` (its default is 30 s). */
const MAX_TIMEOUT_CHECK_INTERVAL_MS = 1000;

/**
 * The HTTP server: a Node server whose request handler sends the gateway's own endpoints (health,
 * metrics, CSP reports, admin) to Fastify and every other request straight to the current route
 * table (see dispatch.ts). Fastify provides the listener lifecycle, the client-error handling and
 * the routing, parsing and replies of the gateway's own endpoints; it never parses a query string
 * (the endpoints parse theirs safely) nor a body it was not asked to.
 */
export function buildServer(options: ServerOptions): FastifyInstance {
  const { runtime, recorder } = options;
  const { dispatch, refuse } = createDispatcher({ runtime, recorder });
  const clientErrors = createClientErrors();
  /**
   * Proxied requests never enter Fastify: its router, request and reply objects and hooks would be
   * pure overhead on the hot path (the route table has its own router). Only the gateway's own
   * endpoints are handed to Fastify.
   */
  const serverFactory = (fastifyHandler: (request: IncomingMessage, response: ServerResponse) => void): HttpServer | HttpsServer => {
    const handler = (request: IncomingMessage, response: ServerResponse): void => {
      clientErrors.track(response);
      const url = request.url ?? '/';
      const mark = url.indexOf('?');
      // An HTTP/1.1 request without Host goes to the dispatcher, which refuses it with a problem
      // (RFC 9112 §3.2). HTTP/1.0 does not require Host, and load balancers' health checks often
      // send none: those reach the gateway's own endpoints like any other request.
      if (options.isBuiltinPath(mark === -1 ? url : url.slice(0, mark)) && (request.headers.host !== undefined || (request.httpVersionMajor === 1 && request.httpVersionMinor === 0))) {
        fastifyHandler(request, response);
        return;
      }
      if (runtime.draining) response.shouldKeepAlive = false;
      dispatch(request, response, requestIdOf(request));
    };
    // Given at creation: Node reads the timeouts and the check interval only then. Assigned later,
    // a stalled body held its connection for 60–90 s whatever `requestTimeoutMs` said.
    const serverOptions = {
      keepAliveTimeout: options.keepAliveTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(MAX_TIMEOUT_CHECK_INTERVAL_MS, options.requestTimeoutMs),
      // The dispatcher answers a missing Host with a problem; Node's own check answers a bare 400.
      requireHostHeader: false,
    };
    const server = options.tls === undefined ? createHttpServer(serverOptions, handler) : createHttpsServer({ ...serverOptions, cert: options.tls.cert, key: options.tls.key }, handler);
    server.on('upgrade', options.websockets.handleUpgrade);
    server.on('connect', clientErrors.refuseConnect);
    // An `Expect` other than 100-continue: Node would answer a bare 417.
    server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
      clientErrors.track(response);
      refuse(request, response, requestIdOf(request), new ApiError('EXPECTATION_FAILED', { detail: 'Only Expect: 100-continue is supported.' }));
    });
    return server;
  };

  const server = Fastify({
    logger: false,
    serverFactory,
    genReqId: requestIdOf,
    requestIdHeader: false,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    keepAliveTimeout: options.keepAliveTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    routerOptions: { querystringParser: () => EMPTY_QUERY, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, maxParamLength: 256 },
    clientErrorHandler: clientErrors.handle,
    frameworkErrors: (error, request, reply) => {
      sendBuiltinProblem(request, reply, runtime.table, new ApiError(error.statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'BAD_REQUEST', { cause: error }));
    },
  }) as unknown as FastifyInstance;

  server.removeAllContentTypeParsers();
  server.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  const builtin = (label: string, handler: BuiltinHandler) =>
    async function handleBuiltin(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
      const table = runtime.table;
      const peer = table.edge.describe(request.raw);
      table.edge.decorate(reply.raw, request.id);
      const startedAt = performance.now();
      runtime.begin();
      let error: ApiError | undefined;
      reply.raw.once('close', () => {
        runtime.end();
        recorder.record({
          requestId: request.id,
          route: label,
          method: request.method,
          path: pathOf(request.url),
          status: reply.raw.statusCode,
          startedAt,
          clientIp: peer.clientIp,
          keyId: undefined,
          tenant: undefined,
          error,
          aborted: reply.raw.writableFinished ? undefined : 'client-closed',
        });
      });
      try {
        return await handler({ request, reply, peer, table });
      } catch (thrown) {
        error = sendBuiltinProblem(request, reply, table, thrown);
        return reply;
      }
    };

  server.setErrorHandler((error, request, reply) => {
    sendBuiltinProblem(request, reply, runtime.table, error);
  });
  server.setNotFoundHandler((request, reply) => {
    sendBuiltinProblem(request, reply, runtime.table, new ApiError('NOT_FOUND'));
  });

  for (const register of options.builtins) register(server, builtin);
  return server;
}

/** Answers one of the gateway's own requests with a problem document. */
function sendBuiltinProblem(request: FastifyRequest, reply: FastifyReply, table: RouteTable, thrown: unknown): ApiError {
  if (!reply.raw.headersSent) table.edge.decorate(reply.raw, request.id);
  reply.hijack();
  return writeProblem(reply.raw, thrown, { requestId: request.id, exposeErrors: table.config.server.exposeErrors });
}

function pathOf(url: string): string {
  const mark = url.indexOf('?');
  return mark === -1 ? url : url.slice(0, mark);
}
