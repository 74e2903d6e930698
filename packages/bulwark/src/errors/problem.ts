import { ApiError } from './api-error.js';
import { docsAnchor, type ErrorCode } from './catalogue.js';
import { fromFrameworkError } from './framework.js';
import { redact } from '../observability/redact.js';

/** The media type of every Bulwark error response (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/**
 * The problem document of RFC 9457 with Bulwark's extension members `code` and `requestId`.
 * @see https://www.rfc-editor.org/rfc/rfc9457
 */
export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ErrorCode;
  readonly requestId?: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

export interface ProblemResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ProblemDocument;
  /** The error as an {@link ApiError}, for logging (its `cause` holds the original error). */
  readonly error: ApiError;
}

export interface ToProblemOptions {
  /** The request id to echo in the document. */
  readonly requestId?: string;
  /** The request path, sent as `instance`. */
  readonly instance?: string;
  /**
   * Include the internal message and stack of unexpected errors. Never turn this on in production:
   * it is the switch that leaks internals. @default false
   */
  readonly exposeErrors?: boolean;
  /** Prefix of the `type` URI; the code's docs anchor is appended. @default 'urn:bulwark:error:' */
  readonly typeBase?: string;
}

/** Extension members that would overwrite the standard ones are dropped, never sent. */
const RESERVED_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'code', 'requestId', 'instance', '__proto__', 'constructor', 'prototype']);

/**
 * Turns anything thrown into an {@link ApiError}. Framework errors for bad requests (a body too
 * large, malformed JSON, an unknown route, a failed schema) keep their meaning; everything else,
 * a plain `Error`, a thrown string, `null`, becomes `INTERNAL_ERROR` with a generic detail, so
 * internal messages never reach the client. The original is kept as `cause`, for the logs.
 */
export function toApiError(error: unknown): ApiError {
  try {
    if (error instanceof ApiError) return error;
    const mapped = fromFrameworkError(error);
    if (mapped !== undefined) return mapped;
  } catch {
    // A getter or proxy trap that throws while the error is inspected: the error path itself must
    // not throw (the framework's fallback would answer with its own page, a stack in development).
  }
  return new ApiError('INTERNAL_ERROR', { detail: 'The server could not complete the request.', cause: error });
}

/**
 * Builds the RFC 9457 response for anything thrown.
 *
 * @example
 * const problem = toProblem(err, { requestId });
 * res.writeHead(problem.status, { 'content-type': PROBLEM_CONTENT_TYPE, ...problem.headers });
 * res.end(JSON.stringify(problem.body));
 */
export function toProblem(thrown: unknown, options: ToProblemOptions = {}): ProblemResponse {
  const error = toApiError(thrown);
  const body: Record<string, unknown> = {
    type: `${options.typeBase ?? 'urn:bulwark:error:'}${docsAnchor(error.code)}`,
    title: error.title,
    status: error.status,
    detail: error.detail,
    code: error.code,
  };
  if (options.requestId !== undefined) body.requestId = options.requestId;
  if (options.instance !== undefined) body.instance = options.instance;
  for (const [name, value] of Object.entries(error.extensions)) {
    if (!RESERVED_MEMBERS.has(name)) body[name] = value;
  }
  if (options.exposeErrors === true) Object.assign(body, internals(error.cause ?? error));
  return { status: error.status, headers: error.headers, body: body as unknown as ProblemDocument, error };
}

/** The message and stack `exposeErrors` adds: for debugging only; even then, credentials in them (connection strings…) are scrubbed. */
function internals(cause: unknown): Record<string, unknown> {
  try {
    if (cause instanceof Error) return { internalMessage: redact(cause.message), stack: redact(cause.stack) };
    return cause === undefined ? {} : { internalMessage: redact(typeof cause === 'string' ? cause : safeString(cause)) };
  } catch {
    // A throwing getter or proxy trap: the response must still be sent.
    return { internalMessage: '[unprintable]' };
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '[unprintable]';
  }
}
