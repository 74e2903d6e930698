import { ApiError, errors } from 'bulwark/errors';

/** Upstream failures the breaker counts, as opposed to the client going away. */
export type UpstreamFailure = 'timeout' | 'connect' | 'reset' | 'status';

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const CONNECT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const cause = (error as { cause?: unknown }).cause;
  return cause === undefined || cause === error ? undefined : codeOf(cause);
}

/** Classifies an error of an upstream call: `undefined` when it is not the upstream's fault. */
export function classifyUpstreamError(error: unknown): UpstreamFailure | undefined {
  if (error instanceof ApiError) return undefined;
  const code = codeOf(error);
  if (code === undefined) return 'reset';
  if (code === 'UND_ERR_ABORTED' || code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_INVALID_ARG') return undefined;
  if (TIMEOUT_CODES.has(code)) return 'timeout';
  if (CONNECT_CODES.has(code)) return 'connect';
  return 'reset';
}

/** The problem a client sees for a failed upstream call. */
export function upstreamProblem(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const failure = classifyUpstreamError(error);
  if (failure === 'timeout') return new ApiError('UPSTREAM_TIMEOUT', { detail: 'The upstream did not answer in time.', cause: error });
  if (failure === 'connect') return new ApiError('UPSTREAM_UNAVAILABLE', { detail: 'The upstream cannot be reached.', headers: { 'retry-after': '1' }, cause: error });
  if (failure === undefined) return new ApiError('BAD_REQUEST', { detail: 'The request ended before it could be forwarded.', cause: error });
  return new ApiError('UPSTREAM_ERROR', { detail: 'The upstream closed the connection without a valid answer.', cause: error });
}

/** The 503 of an open breaker: the upstream is declared down; retry after the breaker's wait. */
export function breakerOpenProblem(retryAfterMs: number): ApiError {
  return errors.upstreamUnavailable(Math.max(1, Math.ceil(retryAfterMs / 1000)));
}
