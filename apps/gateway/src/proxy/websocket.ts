import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError } from 'bulwark/errors';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { WebsocketConfig } from '../config/resolve.js';
import type { RequestRecorder } from '../observability/request-recorder.js';
import { HANDLED } from '../pipeline/compiled-route.js';
import { Exchange } from '../pipeline/exchange.js';
import { failExchange, writeProblem } from '../pipeline/respond.js';
import { isUnambiguousPath } from '../routing/path-guard.js';
import { requestIdOf } from '../server/request-id.js';
import type { RouteTable } from '../server/route-table.js';
import type { GatewayRuntime } from '../server/runtime.js';
import { buildUpstreamHeaders } from './forward-headers.js';

/** Request headers of the client's handshake that belong to that hop only. */
const HANDSHAKE_HEADERS = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'sec-websocket-accept']);
/** Close codes: going away (idle, shutdown) and an upstream that failed. */
const CLOSE_GOING_AWAY = 1001;
const CLOSE_UPSTREAM_ERROR = 1014;

export interface WebSocketProxyOptions {
  readonly runtime: GatewayRuntime;
  readonly recorder: RequestRecorder;
}

/**
 * WebSocket upgrades on routes with `websocket.enabled`. The handshake goes through the same
 * pipeline as any request — path guard, route, CORS origin allow-list (cross-site WebSocket
 * hijacking), authentication, scopes, rate limits, query validation — and is refused with a
 * problem document before any upgrade. Then the gateway opens the upstream connection first (an
 * upstream that refuses is a 502/503 to the client, not a dead socket), accepts the client, and
 * relays messages both ways: per-route and per-client connection limits (429
 * `CONCURRENCY_LIMITED`), a message size limit (close 1009), an idle timeout (close 1001), no
 * compression (no decompression bombs), and the identity headers forwarded like any request.
 */
export interface WebSocketProxy {
  /** The server's `upgrade` listener. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every relayed connection with 1001 (graceful shutdown). */
  closeAll(): void;
  /** Relayed connections open now. */
  readonly openConnections: number;
}

export function createWebSocketProxy(options: WebSocketProxyOptions): WebSocketProxy {
  const { runtime, recorder } = options;
  const perRoute = new Map<string, number>();
  const perClient = new Map<string, number>();
  const servers = new Map<number, WebSocketServer>();
  const open = new Set<WebSocket>();

  const serverFor = (maxPayload: number): WebSocketServer => {
    let server = servers.get(maxPayload);
    if (server === undefined) {
      server = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false, clientTracking: false });
      servers.set(maxPayload, server);
    }
    return server;
  };

  const refuse = (request: IncomingMessage, socket: Duplex, table: RouteTable, requestId: string, error: ApiError): void => {
    const response = new ServerResponse(request);
    response.assignSocket(socket as never);
    response.shouldKeepAlive = false;
    response.once('finish', () => socket.destroy());
    table.edge.decorate(response, requestId);
    writeProblem(response, error, { requestId, exposeErrors: false });
  };

  const handle = async (request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const startedAt = performance.now();
    const table = runtime.table;
    const requestId = requestIdOf(request);
    const url = request.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark === -1 ? url : url.slice(0, mark);
    if (!isUnambiguousPath(path)) return refuse(request, socket, table, requestId, new ApiError('PATH_INVALID'));
    const found = table.router.find('GET', path);
    const websocket = found.kind === 'found' ? found.value.config.websocket : undefined;
    if (found.kind !== 'found' || websocket?.enabled !== true || request.method !== 'GET') {
      return refuse(request, socket, table, requestId, new ApiError('NOT_FOUND', { detail: 'No WebSocket route matches this path.' }));
    }
    const route = found.value;

    // The pipeline answers through a response bound to the socket, exactly as for a request.
    const response = new ServerResponse(request);
    response.assignSocket(socket as never);
    response.shouldKeepAlive = false;
    const exchange = new Exchange(request, response, route, table.edge, requestId, startedAt);
    const record = (status: number, error: ApiError | undefined): void =>
      recorder.record({
        requestId,
        route: route.name,
        method: 'GET',
        path,
        status,
        startedAt,
        clientIp: exchange.clientIp,
        keyId: exchange.identity?.keyId,
        tenant: exchange.identity?.tenant,
        error,
        aborted: undefined,
      });
    const fail = (thrown: unknown): void => {
      response.once('finish', () => socket.destroy());
      failExchange(exchange, thrown, false);
      record(exchange.status, exchange.error);
    };

    try {
      if (table.edge.begin(exchange) === HANDLED) {
        socket.destroy();
        return;
      }
      for (const stage of route.stages) {
        let outcome = stage(exchange);
        if (outcome instanceof Promise) outcome = await outcome;
        if (outcome === HANDLED) {
          socket.destroy();
          return;
        }
      }
    } catch (error) {
      fail(error);
      return;
    }

    const clientKey = `${route.name}|${exchange.identity?.keyId ?? `ip:${exchange.clientIp}`}`;
    if ((perRoute.get(route.name) ?? 0) >= websocket.maxConnections || (perClient.get(clientKey) ?? 0) >= websocket.maxConnectionsPerClient) {
      fail(new ApiError('CONCURRENCY_LIMITED', { detail: 'Too many open WebSocket connections.', headers: { 'retry-after': '1' } }));
      return;
    }

    const upstreamPool = table.upstreams.get(route.config.upstream);
    if (upstreamPool === undefined) {
      fail(new ApiError('UPSTREAM_UNAVAILABLE'));
      return;
    }
    const guard = upstreamPool.guard;
    const permit = guard.tryAcquire();
    if (permit === 0) {
      fail(new ApiError('UPSTREAM_UNAVAILABLE', { headers: { 'retry-after': String(Math.max(1, Math.ceil(guard.snapshot().retryAfterMs / 1000))) } }));
      return;
    }

    const headers = buildUpstreamHeaders(request.headers, {
      requestId,
      clientIp: exchange.clientIp,
      peerIp: exchange.peerIp,
      peerTrusted: exchange.peerTrusted,
      proto: exchange.secure ? 'https' : 'http',
      identity: exchange.identity,
      consumed: new Set([...HANDSHAKE_HEADERS]),
      dropAuthorization: exchange.authorizationConsumed,
      host: upstreamPool.preserveHost ? request.headers.host : upstreamPool.host,
    });
    for (const name of route.consumedHeaders) delete headers[name];
    const strip = route.config.stripPrefix && route.config.match.kind === 'prefix' ? route.config.match.value.replace(/\/+$/, '').length : 0;
    const forwardedPath = (strip === 0 ? path : path.slice(strip)) || '/';
    const target = `${upstreamPool.origin.replace(/^http/, 'ws')}${upstreamPool.basePath}${forwardedPath}${mark === -1 ? '' : url.slice(mark)}`;
    const protocols = (request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((protocol) => protocol.trim())
      .filter((protocol) => protocol !== '');

    const connectStarted = performance.now();
    const upstream = new WebSocket(target, protocols, { headers, maxPayload: websocket.maxMessageBytes, perMessageDeflate: false, handshakeTimeout: upstreamPool.config.connectTimeoutMs });
    upstream.once('unexpected-response', (_request, upstreamResponse) => {
      upstreamResponse.resume();
      guard.release(permit, (upstreamResponse.statusCode ?? 500) >= 500 ? 'failure' : 'success', performance.now() - connectStarted);
      fail(new ApiError('UPSTREAM_ERROR', { detail: `The upstream refused the WebSocket upgrade (${upstreamResponse.statusCode ?? 0}).` }));
      upstream.terminate();
    });
    upstream.once('error', (error) => {
      if (upstream.readyState !== WebSocket.CONNECTING && upstream.readyState !== WebSocket.CLOSED) return;
      if (response.headersSent || socket.destroyed) return;
      guard.release(permit, 'failure', performance.now() - connectStarted);
      fail(new ApiError('UPSTREAM_UNAVAILABLE', { detail: 'The upstream WebSocket cannot be reached.', headers: { 'retry-after': '1' }, cause: error }));
    });
    upstream.once('open', () => {
      guard.release(permit, 'success', performance.now() - connectStarted);
      if (socket.destroyed) {
        upstream.terminate();
        return;
      }
      // ws may still refuse the client's handshake (no or a bad Sec-WebSocket-Key or version): it
      // answers 400 and closes the socket without calling back. The upstream must not outlive it.
      let accepted = false;
      socket.once('close', () => {
        if (!accepted) upstream.terminate();
      });
      serverFor(websocket.maxMessageBytes).handleUpgrade(request, socket, head, (client) => {
        accepted = true;
        record(101, undefined);
        relay(client, upstream, websocket, route.name, clientKey);
      });
    });
  };

  const relay = (client: WebSocket, upstream: WebSocket, config: WebsocketConfig, routeName: string, clientKey: string): void => {
    perRoute.set(routeName, (perRoute.get(routeName) ?? 0) + 1);
    perClient.set(clientKey, (perClient.get(clientKey) ?? 0) + 1);
    open.add(client);
    const idle = setTimeout(() => {
      client.close(CLOSE_GOING_AWAY, 'idle');
      upstream.close(CLOSE_GOING_AWAY, 'idle');
    }, config.idleTimeoutMs);
    idle.unref();
    const touch = (): void => {
      idle.refresh();
    };

    const forward = (to: WebSocket) => (data: RawData, isBinary: boolean) => {
      touch();
      if (to.readyState === WebSocket.OPEN) to.send(data, { binary: isBinary });
    };
    client.on('message', forward(upstream));
    upstream.on('message', forward(client));
    let closed = false;
    const closeBoth = (code: number, reason: Buffer): void => {
      if (closed) return;
      closed = true;
      clearTimeout(idle);
      open.delete(client);
      perRoute.set(routeName, Math.max(0, (perRoute.get(routeName) ?? 1) - 1));
      const remaining = (perClient.get(clientKey) ?? 1) - 1;
      if (remaining <= 0) perClient.delete(clientKey);
      else perClient.set(clientKey, remaining);
      // 1005/1006 are reported, never sent.
      const sendable = code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 ? code : CLOSE_UPSTREAM_ERROR;
      for (const socket of [client, upstream]) {
        if (socket.readyState === WebSocket.OPEN) socket.close(sendable, reason.length <= 123 ? reason : undefined);
        else if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      }
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', () => upstream.terminate());
    upstream.on('error', () => client.terminate());
  };

  return {
    handleUpgrade(request, socket, head) {
      socket.on('error', () => socket.destroy());
      handle(request, socket, head).catch(() => socket.destroy());
    },
    closeAll() {
      for (const client of open) client.close(CLOSE_GOING_AWAY, 'server shutting down');
    },
    get openConnections() {
      return open.size;
    },
  };
}
