import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Exchange } from '../pipeline/exchange.js';
import { failExchange } from '../pipeline/respond.js';
import { appendResponseHeaders } from './forward-headers.js';
import { classifyUpstreamError, upstreamProblem } from './upstream-errors.js';
import type { UpstreamGuard } from './upstream-guard.js';

/** Responses up to this size (by Content-Length) go out in one write with their head. */
const BUFFER_BELOW_BYTES = 64 * 1024;

/** What every handler of one route shares, built once. */
export interface ProxyRoute {
  readonly guard: UpstreamGuard;
  readonly ownedResponseHeaders: ReadonlySet<string>;
  readonly exposeErrors: boolean;
}

/**
 * One upstream exchange at undici's dispatch level (no stream objects in between): the response
 * head goes to the client as soon as it arrives, the body follows chunk by chunk with backpressure —
 * or, for a small body of known length, in the same write as the head (one syscall instead of two).
 * The breaker sees the call up to the response head. An upstream error before the head is answered
 * as a problem (502/503/504); after it, the client connection is closed.
 */
export class ProxyHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private responded = false;
  private statusCode = 0;
  private outgoing: string[] | undefined;
  private chunks: Buffer[] | undefined;
  private resumeOnDrain: (() => void) | undefined;
  /** Set when the client went away: the upstream call is (or, once it starts, will be) aborted. */
  private clientGone: Error | undefined;

  constructor(
    private readonly exchange: Exchange,
    private readonly route: ProxyRoute,
    private readonly permit: number,
    private readonly startedAt: number,
    private readonly done: () => void,
  ) {}

  /**
   * The client response closed. Before it finished, the client went away: its upstream call is
   * cancelled at once instead of holding an upstream connection until the upstream answers or the
   * route timeout passes (and a shutdown waiting for it). A call still queued for a connection is
   * cancelled when it starts.
   */
  readonly onClientClose = (): void => {
    if (this.exchange.response.writableFinished || this.clientGone !== undefined) return;
    this.clientGone = new Error('the client closed the connection');
    this.controller?.abort(this.clientGone);
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.clientGone !== undefined) controller.abort(this.clientGone);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx: informational, the real head follows
    this.responded = true;
    this.route.guard.release(this.permit, statusCode >= 500 ? 'failure' : 'success', performance.now() - this.startedAt);
    const exchange = this.exchange;
    const response = exchange.response;
    // One flat list, one writeHead: the security headers, the request id, the stages' headers
    // (CORS, rate limits), then the upstream's. Two Vary lines are one list in HTTP.
    const outgoing = exchange.edge.securityFlat.slice();
    outgoing.push('x-request-id', exchange.requestId);
    const extra = exchange.responseHeaders;
    if (extra !== undefined) for (let i = 0; i < extra.length; i += 1) outgoing.push(extra[i] ?? '');
    appendResponseHeaders(outgoing, headers, this.route.ownedResponseHeaders);
    exchange.status = statusCode;
    const length = headers['content-length'];
    if (typeof length === 'string' && length.length < 7 && Number(length) <= BUFFER_BELOW_BYTES) {
      this.statusCode = statusCode;
      this.outgoing = outgoing;
      this.chunks = [];
      return;
    }
    response.writeHead(statusCode, outgoing);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const response = this.exchange.response;
    if (response.destroyed) {
      controller.abort(new Error('the client closed the connection'));
      return;
    }
    if (this.chunks !== undefined) {
      this.chunks.push(chunk);
      return;
    }
    if (!response.write(chunk)) {
      controller.pause();
      this.resumeOnDrain ??= () => this.controller?.resume();
      response.once('drain', this.resumeOnDrain);
    }
  }

  onResponseEnd(): void {
    const response = this.exchange.response;
    const chunks = this.chunks;
    if (chunks !== undefined && this.outgoing !== undefined) {
      response.writeHead(this.statusCode, this.outgoing);
      response.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    } else {
      response.end();
    }
    this.done();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const exchange = this.exchange;
    if (error === this.clientGone) {
      // Not the upstream's failure: the breaker does not count it, and nobody is left to answer.
      if (!this.responded) this.route.guard.release(this.permit, 'ignored', performance.now() - this.startedAt);
      exchange.aborted = 'client-closed';
    } else if (!this.responded) {
      const failure = classifyUpstreamError(error);
      this.route.guard.release(this.permit, failure === undefined ? 'ignored' : 'failure', performance.now() - this.startedAt);
      failExchange(exchange, upstreamProblem(error), this.route.exposeErrors);
    } else if (this.chunks !== undefined && !exchange.response.headersSent) {
      // The upstream broke off a body we were still buffering: nothing was sent yet.
      failExchange(exchange, upstreamProblem(error), this.route.exposeErrors);
    } else {
      exchange.aborted = (error as { code?: string }).code ?? error.name;
      exchange.response.destroy();
    }
    this.done();
  }
}
