import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { ApiError } from 'bulwark/errors';
import type { Identity } from '../auth/identity.js';
import type { CompiledRoute } from './compiled-route.js';

/**
 * One request on its way through the pipeline. A class with every field set in the constructor, so
 * that all exchanges share one hidden class (the hot path stays monomorphic) and stages communicate
 * through typed fields instead of ad-hoc properties.
 */
export class Exchange {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly route: CompiledRoute;
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
  /** The credential came in `Authorization` (a bearer API key): it is not forwarded. */
  authorizationConsumed: boolean;
  /** Rate-limit fields to send with the final response (`RateLimit`, `RateLimit-Policy`). */
  limitHeaders: Record<string, string> | undefined;
  /** The status sent, for the access log and metrics. */
  status: number;
  /** The error answered, for the access log. */
  error: ApiError | undefined;
  /** Why an upstream exchange failed after the response started (client gone, upstream reset). */
  aborted: string | undefined;

  constructor(request: IncomingMessage, response: ServerResponse, route: CompiledRoute, requestId: string, startedAt: number) {
    this.request = request;
    this.response = response;
    this.route = route;
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
    this.authorizationConsumed = false;
    this.limitHeaders = undefined;
    this.status = 0;
    this.error = undefined;
    this.aborted = undefined;
  }
}
