import { ApiError, errors } from 'bulwark/errors';
import type { Stage } from './compiled-route.js';
import type { Exchange } from './exchange.js';
import { LimitStream } from './limit-stream.js';
import { declaredLength, hasBody, readBody } from './read-body.js';

/**
 * Safe parsers for what clients send. Implemented over bulwark/http's `parseJsonSafe` and
 * `parseQuerySafe` (see safe-parsers.ts); each throws an `ApiError` on hostile input.
 */
export interface SafeParsers {
  /** JSON bytes → value; JSON_MALFORMED, JSON_TOO_DEEP, JSON_TOO_MANY_KEYS, FORBIDDEN_KEY… */
  json(body: Buffer): unknown;
  /** A raw query string (no `?`) → parameters; QUERY_INVALID, FORBIDDEN_KEY… */
  query(raw: string): Readonly<Record<string, string | readonly string[]>>;
}

export interface BodyStageOptions {
  readonly limitBytes: number;
  /** Buffer every body (the authenticator needs the raw bytes, or the body is validated). */
  readonly bufferAlways: boolean;
  /** Buffer and check JSON bodies (depth, key count, prototype keys). */
  readonly safeJson: boolean;
  /** A body schema is configured: the body must be JSON. */
  readonly requireJson: boolean;
  readonly parsers: SafeParsers;
}

/**
 * Body limits and safe parsing, before authentication: a declared length over the route's limit is
 * refused before a byte is read (413); the query string is parsed safely when there is one; JSON is
 * buffered (bounded) and parsed safely when the route checks it; everything else streams to the
 * upstream, chunked bodies through a byte counter.
 */
export function createBodyStage(options: BodyStageOptions): Stage {
  const { limitBytes, bufferAlways, safeJson, requireJson, parsers } = options;

  const afterRead = (exchange: Exchange, body: Buffer, json: boolean): undefined => {
    exchange.body = body;
    if (json && body.length > 0) exchange.json = parsers.json(body);
    return undefined;
  };

  return function parseBody(exchange: Exchange) {
    if (exchange.rawQuery !== '') exchange.query = parsers.query(exchange.rawQuery);
    const request = exchange.request;
    if (!hasBody(request)) return undefined;

    const declared = declaredLength(request);
    if (declared !== undefined && declared > limitBytes) throw errors.payloadTooLarge(limitBytes);

    const json = isJson(request.headers['content-type']);
    if (requireJson && !json) {
      throw new ApiError('UNSUPPORTED_MEDIA_TYPE', { detail: 'This route accepts JSON bodies only (Content-Type: application/json).' });
    }
    if (bufferAlways || (safeJson && json)) {
      return readBody(request, limitBytes).then((body) => afterRead(exchange, body, json && (safeJson || requireJson)));
    }
    if (declared === undefined) exchange.bodyStream = request.pipe(new LimitStream(limitBytes));
    return undefined;
  };
}

/** `application/json` and any `+json` type, parameters and case ignored. */
export function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}
