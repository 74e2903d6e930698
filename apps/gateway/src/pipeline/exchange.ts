import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { ApiError } from 'bulwark/errors';
import type { Identity } from '../auth/identity.js';
import type { CompiledRoute } from './compiled-route.js';
import type { Edge } from './edge.js';

/**
 * One request on its way through the pipeline. A class with every field set in the constructor, so
 * that all exchanges share one hidden class (the hot path stays monomorphic) and stages communicate
 * through typed fields instead of ad-hoc properties.
 */
export class Exchange {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly route: CompiledRoute;
  /** The edge of the route table the request was routed by (security headers). */
  readonly edge: Edge;
  readonly requestId: string;
  /** `performance.now()` when the request reached the gateway. */
  readonly startedAt: number;
  /** The path without the query string, exactly as received. */
  readonly path: string;
  /** The query string without `?`; empty when there is none. */
  readonly rawQuery: string;
  /** The directly connected peer. */
  peerIp: string;
  /** The client, through trusted proxies only. */
  clientIp: string;
  /** Whether the peer is a trusted proxy. */
  peerTrusted: boolean;
  /** Whether the client used HTTPS (directly, or as a trusted proxy reports). */
  secure: boolean;
  /** The parsed query, once the parsing stage ran. */
  query: Readonly<Record<string, string | readonly string[]>> | undefined;
  /** The raw body, when the route needs it buffered (signatures, webhooks, JSON checks, validation). */
  body: Buffer | undefined;
  /** A byte-counting stream over a chunked body that is forwarded without buffering. */
  bodyStream: Readable | undefined;
  /** The parsed JSON body, when one was parsed. */
  json: unknown;
  identity: Identity | undefined;
  /** Run when the request ends without a 2xx answer: see `AuthOutcome.undo`. */
  undoAuthentication: (() => Promise<void>) | undefined;
  /** The credential came in `Authorization` (a bearer API key): it is not forwarded. */
  authorizationConsumed: boolean;
  /**
   * Headers stages add for the final response (CORS grants, rate-limit fields), as flat
   * name/value pairs: the proxied response writes them in one `writeHead` with the rest.
   */
  responseHeaders: string[] | undefined;
  /** Whether {@link applyHeaders} already copied the headers onto the response. */
  private headersApplied: boolean;
  /** The status sent, for the access log and metrics. */
  status: number;
  /** The error answered, for the access log. */
  error: ApiError | undefined;
  /** Why an upstream exchange failed after the response started (client gone, upstream reset). */
  aborted: string | undefined;

  constructor(request: IncomingMessage, response: ServerResponse, route: CompiledRoute, edge: Edge, requestId: string, startedAt: number) {
    this.request = request;
    this.response = response;
    this.route = route;
    this.edge = edge;
    this.requestId = requestId;
    this.startedAt = startedAt;
    const url = request.url ?? '/';
    const mark = url.indexOf('?');
    this.path = mark === -1 ? url : url.slice(0, mark);
    this.rawQuery = mark === -1 ? '' : url.slice(mark + 1);
    this.peerIp = '';
    this.clientIp = '';
    this.peerTrusted = false;
    this.secure = false;
    this.query = undefined;
    this.body = undefined;
    this.bodyStream = undefined;
    this.json = undefined;
    this.identity = undefined;
    this.undoAuthentication = undefined;
    this.authorizationConsumed = false;
    this.responseHeaders = undefined;
    this.headersApplied = false;
    this.status = 0;
    this.error = undefined;
    this.aborted = undefined;
  }

  /** Adds a header to the final response, whatever it turns out to be. */
  addHeader(name: string, value: string): void {
    (this.responseHeaders ??= []).push(name, value);
  }

  /**
   * Copies the security headers, the request id and the stages' headers onto the response with
   * `setHeader`: for every answer the gateway writes itself (problems, preflights, redirects). The
   * proxied answer writes them in its `writeHead` instead.
   */
  applyHeaders(): void {
    if (this.headersApplied) return;
    this.headersApplied = true;
    const response = this.response;
    this.edge.decorate(response, this.requestId);
    const extra = this.responseHeaders;
    if (extra === undefined) return;
    for (let i = 0; i + 1 < extra.length; i += 2) {
      const name = extra[i] ?? '';
      const value = extra[i + 1] ?? '';
      const previous = response.getHeader(name);
      response.setHeader(name, previous === undefined ? value : `${String(previous)}, ${value}`);
    }
  }
}
