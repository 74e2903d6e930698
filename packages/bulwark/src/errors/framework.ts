import { ApiError } from './api-error.js';
import type { ErrorCode } from './catalogue.js';

/*
 * The errors Express (body-parser, raw-body, http-errors) and Fastify (its content-type parser,
 * router and validator) raise for bad requests, mapped to catalogue codes. They are recognised by
 * their stable identifiers (`type` for body-parser, `code` for Fastify), never by message text, and
 * their messages are never forwarded: the client gets the catalogue title or Bulwark's own detail.
 */

/** body-parser / raw-body `err.type` → catalogue code. */
const CODE_BY_BODY_PARSER_TYPE: Readonly<Record<string, ErrorCode>> = {
  'entity.too.large': 'PAYLOAD_TOO_LARGE',
  'parameters.too.many': 'PAYLOAD_TOO_LARGE',
  'entity.parse.failed': 'JSON_MALFORMED',
  'querystring.parse.rangeError': 'QUERY_INVALID',
  'charset.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'encoding.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'request.size.invalid': 'BAD_REQUEST',
  'request.aborted': 'BAD_REQUEST',
  'entity.verify.failed': 'FORBIDDEN',
};

/** Fastify `err.code` → catalogue code. */
const CODE_BY_FASTIFY_CODE: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'JSON_MALFORMED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'JSON_MALFORMED',
  FST_ERR_NOT_FOUND: 'NOT_FOUND',
  FST_ERR_BAD_URL: 'PATH_INVALID',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST',
};

/** Catalogue codes for plain 4xx statuses (a router's 404, an `http-errors` 409 …). */
const CODE_BY_CLIENT_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'AUTH_REQUIRED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'VALIDATION_FAILED',
  429: 'RATE_LIMITED',
};

/** 5xx statuses that say something a client can act on; any other 5xx is an internal error. */
const CODE_BY_SERVER_STATUS: Readonly<Record<number, ErrorCode>> = {
  502: 'UPSTREAM_ERROR',
  503: 'SERVICE_UNAVAILABLE',
  504: 'TIMEOUT',
};

interface FrameworkErrorShape {
  readonly status?: unknown;
  readonly statusCode?: unknown;
  readonly type?: unknown;
  readonly code?: unknown;
  readonly limit?: unknown;
  readonly validation?: unknown;
}

/**
 * The {@link ApiError} a framework error stands for, or `undefined` when `error` is not one (then it
 * is an internal error). The original error is kept as `cause`, for the logs only.
 */
export function fromFrameworkError(error: unknown): ApiError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const shape = error as FrameworkErrorShape;
  if (Array.isArray(shape.validation)) {
    return new ApiError('VALIDATION_FAILED', { detail: 'The request does not match the expected shape.', extensions: { errors: validationIssues(shape.validation) }, cause: error });
  }
  const byType = typeof shape.type === 'string' && Object.hasOwn(CODE_BY_BODY_PARSER_TYPE, shape.type) ? CODE_BY_BODY_PARSER_TYPE[shape.type] : undefined;
  const byCode = typeof shape.code === 'string' && Object.hasOwn(CODE_BY_FASTIFY_CODE, shape.code) ? CODE_BY_FASTIFY_CODE[shape.code] : undefined;
  const code = byType ?? byCode;
  if (code === 'PAYLOAD_TOO_LARGE' && typeof shape.limit === 'number' && Number.isFinite(shape.limit)) {
    return new ApiError(code, { detail: `The body exceeds the limit of ${shape.limit} bytes.`, extensions: { limitBytes: shape.limit }, cause: error });
  }
  if (code !== undefined) return new ApiError(code, { cause: error });
  const status = statusOf(shape);
  if (status === undefined) return undefined;
  const byStatus = status >= 400 && status < 500 ? (CODE_BY_CLIENT_STATUS[status] ?? 'BAD_REQUEST') : CODE_BY_SERVER_STATUS[status];
  if (byStatus === undefined) return undefined;
  // A 4xx keeps the framework's exact status (418 stays 418) under the nearest code.
  return new ApiError(byStatus, status < 500 ? { status, cause: error } : { cause: error });
}

function statusOf(shape: FrameworkErrorShape): number | undefined {
  const candidate = shape.statusCode ?? shape.status;
  return typeof candidate === 'number' && Number.isInteger(candidate) ? candidate : undefined;
}

/**
 * Fastify's (Ajv's) validation issues as `{ path, message }`: the instance path and the schema's
 * message (`must have required property 'name'`), which describe the schema, not the server.
 */
function validationIssues(validation: readonly unknown[]): { path: string; message: string }[] {
  return validation.slice(0, 20).map((issue) => {
    const { instancePath, message } = (typeof issue === 'object' && issue !== null ? issue : {}) as { instancePath?: unknown; message?: unknown };
    return { path: typeof instancePath === 'string' && instancePath !== '' ? instancePath : '/', message: typeof message === 'string' ? message.slice(0, 200) : 'is invalid' };
  });
}
