import type { Dispatcher } from 'undici';
import type { ResolvedRoute } from '../config/resolve.js';
import type { Terminal } from '../pipeline/compiled-route.js';
import type { Exchange } from '../pipeline/exchange.js';
import { hasBody } from '../pipeline/read-body.js';
import { failExchange } from '../pipeline/respond.js';
import { buildUpstreamHeaders } from './forward-headers.js';
import { ProxyHandler, type ProxyRoute } from './proxy-handler.js';
import { breakerOpenProblem } from './upstream-errors.js';
import type { UpstreamPool } from './upstream-pool.js';

const RESOLVED = Promise.resolve();

export interface ForwarderOptions {
  readonly route: ResolvedRoute;
  readonly upstream: UpstreamPool;
  /** Response headers the gateway sets itself; the upstream's values of these are dropped. */
  readonly ownedResponseHeaders: ReadonlySet<string>;
  /** Request headers holding credentials the route's authentication consumed. */
  readonly consumedHeaders: ReadonlySet<string>;
  readonly exposeErrors: boolean;
}

/**
 * The last stage: forwards the request on the upstream's keep-alive pool at undici's dispatch level
 * and streams the answer straight into the client response (see ProxyHandler). The breaker sees the
 * call up to the response head; the route's `timeoutMs` bounds the wait for the head and every
 * pause of the body (504 UPSTREAM_TIMEOUT).
 */
export function createForwarder(options: ForwarderOptions): Terminal {
  const { route, upstream, ownedResponseHeaders, consumedHeaders, exposeErrors } = options;
  const strip = route.stripPrefix && route.match.kind === 'prefix' ? route.match.value.replace(/\/+$/, '').length : 0;
  const timeoutMs = route.timeoutMs;
  const pool = upstream.pool;
  const proxyRoute: ProxyRoute = { guard: upstream.guard, ownedResponseHeaders, exposeErrors };

  const upstreamPath = (exchange: Exchange): string => {
    let path = strip === 0 ? exchange.path : exchange.path.slice(strip);
    if (path === '' || path.charCodeAt(0) !== 0x2f /* / */) path = `/${path}`;
    const full = upstream.basePath === '' ? path : `${upstream.basePath}${path === '/' ? '' : path}` || '/';
    return exchange.rawQuery === '' ? full : `${full}?${exchange.rawQuery}`;
  };

  return function forward(exchange: Exchange): Promise<void> {
    const request = exchange.request;
    const headers = buildUpstreamHeaders(request.headers, {
      requestId: exchange.requestId,
      clientIp: exchange.clientIp,
      peerIp: exchange.peerIp,
      peerTrusted: exchange.peerTrusted,
      proto: exchange.secure ? 'https' : 'http',
      identity: exchange.identity,
      consumed: consumedHeaders,
      dropAuthorization: exchange.authorizationConsumed,
      host: upstream.preserveHost ? request.headers.host : upstream.host,
    });
    const body = exchange.body ?? exchange.bodyStream ?? (hasBody(request) ? request : null);
    if (exchange.body !== undefined) headers['content-length'] = String(exchange.body.length);

    const guard = upstream.guard;
    const permit = guard.tryAcquire();
    if (permit === 0) {
      failExchange(exchange, breakerOpenProblem(guard.snapshot().retryAfterMs), exposeErrors);
      return RESOLVED;
    }
    const startedAt = performance.now();

    return new Promise<void>((resolve) => {
      const handler = new ProxyHandler(exchange, proxyRoute, permit, startedAt, resolve);
      exchange.response.on('close', handler.onClientClose);
      pool.dispatch({ path: upstreamPath(exchange), method: request.method as Dispatcher.HttpMethod, headers, body, headersTimeout: timeoutMs, bodyTimeout: timeoutMs }, handler);
    });
  };
}
