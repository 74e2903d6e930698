import { ApiError, type ApiErrorOptions } from './api-error.js';

/**
 * Factories for the errors the HTTP layer raises most. Each returns an {@link ApiError}; throw it or
 * pass it to the framework's error path.
 */
export const errors = {
  authRequired: (detail?: string): ApiError => new ApiError('AUTH_REQUIRED', withDetail(detail)),
  forbidden: (detail?: string): ApiError => new ApiError('FORBIDDEN', withDetail(detail)),
  insufficientScope: (required: readonly string[]): ApiError =>
    new ApiError('INSUFFICIENT_SCOPE', { detail: `This route needs the scope${required.length === 1 ? '' : 's'} ${required.join(', ')}.`, extensions: { requiredScopes: [...required] } }),
  notFound: (detail?: string): ApiError => new ApiError('NOT_FOUND', withDetail(detail)),
  payloadTooLarge: (limitBytes: number): ApiError =>
    new ApiError('PAYLOAD_TOO_LARGE', { detail: `The body exceeds the limit of ${limitBytes} bytes.`, extensions: { limitBytes } }),
  rateLimited: (retryAfterSeconds: number, headers: Readonly<Record<string, string>> = {}): ApiError =>
    new ApiError('RATE_LIMITED', {
      detail: `Rate limit exceeded; retry in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`,
      headers: { ...headers, 'retry-after': String(retryAfterSeconds) },
    }),
  storeUnavailable: (retryAfterSeconds: number): ApiError =>
    new ApiError('RATE_LIMIT_STORE_UNAVAILABLE', {
      detail: 'The rate limit cannot be checked right now; retry shortly.',
      headers: { 'retry-after': String(retryAfterSeconds) },
    }),
  validationFailed: (issues: readonly { path: string; message: string }[]): ApiError =>
    new ApiError('VALIDATION_FAILED', { detail: 'The request does not match the expected shape.', extensions: { errors: issues.map((issue) => ({ ...issue })) } }),
  upstreamUnavailable: (retryAfterSeconds?: number): ApiError =>
    new ApiError('UPSTREAM_UNAVAILABLE', retryAfterSeconds === undefined ? {} : { headers: { 'retry-after': String(retryAfterSeconds) } }),
  upstreamTimeout: (): ApiError => new ApiError('UPSTREAM_TIMEOUT'),
  internal: (cause?: unknown): ApiError => new ApiError('INTERNAL_ERROR', { detail: 'The server could not complete the request.', cause }),
} as const;

function withDetail(detail: string | undefined): ApiErrorOptions {
  return detail === undefined ? {} : { detail };
}
