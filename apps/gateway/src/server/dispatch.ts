import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, toApiError } from 'bulwark/errors';
import { HANDLED } from '../pipeline/compiled-route.js';
import { Exchange } from '../pipeline/exchange.js';
import { closeIfBodyUnread, failExchange, writeProblem } from '../pipeline/respond.js';
import type { RequestRecorder } from '../observability/request-recorder.js';
import { isUnambiguousPath } from '../routing/path-guard.js';
import type { RouteTable } from './route-table.js';
import type { GatewayRuntime } from './runtime.js';

/**
 * TRACE echoes the request, credentials and cookies included, back to whoever sent it (cross-site
 * tracing): a route that accepts every method still refuses it unless it names it.
 */
const TRACE_METHODS = new Set(['TRACE', 'TRACK']);

export interface DispatcherOptions {
  readonly runtime: GatewayRuntime;
  readonly recorder: RequestRecorder;
}

/**
 * Routes a request through the current table and runs its pipeline: the edge (client IP, HTTPS
 * redirect, headers), the route's stages, then the proxy; a thrown `ApiError` at any point becomes
 * a problem response. The table is read once per request, so a reload never changes a request's
 * pipeline half-way.
 */
export interface Dispatcher {
  /** Routes and runs one request. */
  readonly dispatch: (request: IncomingMessage, response: ServerResponse, requestId: string) => void;
  /** Answers a request with a problem before any route sees it (and records it for the access log). */
  readonly refuse: (request: IncomingMessage, response: ServerResponse, requestId: string, error: ApiError) => void;
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { runtime, recorder } = options;

  const record = (exchange: Exchange): void => {
    runtime.end();
    const status = exchange.status === 0 ? exchange.response.statusCode : exchange.status;
    // Not accepted (no 2xx, or cut short): its sender will retry it.
    if (exchange.undoAuthentication !== undefined && (status < 200 || status > 299 || exchange.aborted !== undefined)) void exchange.undoAuthentication();
    const identity = exchange.identity;
    recorder.record({
      requestId: exchange.requestId,
      route: exchange.route.name,
      method: exchange.request.method ?? 'GET',
      path: exchange.path,
      status,
      startedAt: exchange.startedAt,
      clientIp: exchange.clientIp,
      keyId: identity?.keyId,
      tenant: identity?.tenant,
      error: exchange.error,
      aborted: exchange.aborted,
    });
  };

  const run = async (exchange: Exchange, table: RouteTable): Promise<void> => {
    try {
      if (table.edge.begin(exchange) === HANDLED) return;
      const stages = exchange.route.stages;
      for (let i = 0; i < stages.length; i += 1) {
        const stage = stages[i];
        if (stage === undefined) continue;
        let outcome = stage(exchange);
        if (outcome instanceof Promise) outcome = await outcome;
        if (outcome === HANDLED) return;
      }
      await exchange.route.terminal(exchange);
    } catch (error) {
      failExchange(exchange, error, table.config.server.exposeErrors);
    } finally {
      record(exchange);
    }
  };

  const unrouted = (request: IncomingMessage, response: ServerResponse, requestId: string, table: RouteTable, error: ApiError, label: string): void => {
    const startedAt = performance.now();
    const peer = table.edge.describe(request);
    table.edge.decorate(response, requestId);
    closeIfBodyUnread(request, response);
    writeProblem(response, error, { requestId, exposeErrors: false });
    runtime.end();
    recorder.record({
      requestId,
      route: label,
      method: request.method ?? 'GET',
      path: pathOf(request.url ?? '/'),
      status: error.status,
      startedAt,
      clientIp: peer.clientIp,
      keyId: undefined,
      tenant: undefined,
      error,
      aborted: undefined,
    });
  };

  const refuse = (request: IncomingMessage, response: ServerResponse, requestId: string, error: ApiError): void => {
    runtime.begin();
    unrouted(request, response, requestId, runtime.table, error, 'unmatched');
  };

  const dispatch = (request: IncomingMessage, response: ServerResponse, requestId: string): void => {
    const startedAt = performance.now();
    runtime.begin();
    const table = runtime.table;
    // Node's own check answers a bare 400 (not a problem): the server is created without it.
    if (request.headers.host === undefined && request.httpVersionMajor === 1 && request.httpVersionMinor === 1) {
      unrouted(request, response, requestId, table, new ApiError('HEADER_INVALID', { detail: 'An HTTP/1.1 request needs a Host header.' }), 'unmatched');
      return;
    }
    const path = pathOf(request.url ?? '/');
    if (!isUnambiguousPath(path)) {
      unrouted(request, response, requestId, table, new ApiError('PATH_INVALID', { detail: 'The path has dot segments, encoded separators, empty segments or malformed escapes.' }), 'unmatched');
      return;
    }
    const found = table.router.find(request.method ?? 'GET', path);
    if (found.kind === 'not-found') {
      unrouted(request, response, requestId, table, new ApiError('NOT_FOUND', { detail: 'No route matches this path.' }), 'unmatched');
      return;
    }
    if (found.kind === 'method-not-allowed') {
      unrouted(request, response, requestId, table, new ApiError('METHOD_NOT_ALLOWED', { headers: { allow: found.allow.join(', ') } }), 'unmatched');
      return;
    }
    if (found.value.config.match.methods === undefined && TRACE_METHODS.has(request.method ?? '')) {
      unrouted(request, response, requestId, table, new ApiError('METHOD_NOT_ALLOWED', { detail: 'TRACE is refused unless the route lists it in match.methods.' }), found.value.name);
      return;
    }
    const exchange = new Exchange(request, response, found.value, table.edge, requestId, startedAt);
    run(exchange, table).catch((error: unknown) => {
      // Only a bug in the recorder can get here; answer if still possible and never crash the process.
      if (!response.headersSent) writeProblem(response, toApiError(error), { requestId, exposeErrors: false });
    });
  };

  return { dispatch, refuse };
}

function pathOf(url: string): string {
  const mark = url.indexOf('?');
  return mark === -1 ? url : url.slice(0, mark);
}
