import type { Dispatcher } from 'undici';
import type { ResolvedRoute } from '../config/resolve.js';
import type { Terminal } from '../pipeline/compiled-route.js';
import type { Exchange } from '../pipeline/exchange.js';
import { hasBody } from '../pipeline/read-body.js';
import { failExchange } from '../pipeline/respond.js';
import { buildUpstreamHeaders, filterResponseHeaders } from './forward-headers.js';
import { breakerOpenProblem, classifyUpstreamError, upstreamProblem } from './upstream-errors.js';
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
 * The last stage: forwards the request on the upstream's keep-alive pool and streams the answer
 * straight into the client response (undici `stream`, no intermediate body object). The breaker
 * sees the call up to the response head; the route's `timeoutMs` bounds the wait for the head and
 * every pause of the body (504 UPSTREAM_TIMEOUT).
 */
export function createForwarder(options: ForwarderOptions): Terminal {
  const { route, upstream, ownedResponseHeaders, consumedHeaders, exposeErrors } = options;
  const strip = route.stripPrefix && route.match.kind === 'prefix' ? route.match.value.replace(/\/+$/, '').length : 0;
  const timeoutMs = route.timeoutMs;
  const pool = upstream.pool;

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
      let headSent = false;
      const requestOptions: Dispatcher.RequestOptions<Exchange> = {
        path: upstreamPath(exchange),
        method: request.method as Dispatcher.HttpMethod,
        headers,
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        opaque: exchange,
      };
      pool.stream(
        requestOptions,
        ({ statusCode, headers: upstreamHeaders }) => {
          headSent = true;
          guard.release(permit, statusCode >= 500 ? 'failure' : 'success', performance.now() - startedAt);
          const response = exchange.response;
          const outgoing = filterResponseHeaders(upstreamHeaders, ownedResponseHeaders);
          const limitHeaders = exchange.limitHeaders;
          if (limitHeaders !== undefined) for (const name in limitHeaders) outgoing[name] = limitHeaders[name] ?? '';
          const vary = outgoing.vary;
          if (vary !== undefined && response.hasHeader('vary')) outgoing.vary = `${String(response.getHeader('vary'))}, ${String(vary)}`;
          exchange.status = statusCode;
          response.writeHead(statusCode, outgoing);
          return response;
        },
        (error) => {
          if (headSent) {
            if (error !== null) exchange.aborted = (error as { code?: string }).code ?? error.name;
          } else {
            const failure = error === null ? 'reset' : classifyUpstreamError(error);
            guard.release(permit, failure === undefined ? 'ignored' : 'failure', performance.now() - startedAt);
            failExchange(exchange, upstreamProblem(error ?? new Error('upstream call ended without a response')), exposeErrors);
          }
          resolve();
        },
      );
    });
  };
}
