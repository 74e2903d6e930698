import { ERROR_CATALOGUE, type ErrorCode, type ErrorSeverity } from './catalogue.js';

export interface ApiErrorOptions {
  /** Human-readable explanation for this occurrence; safe to show to the client. @default the code's title */
  readonly detail?: string;
  /** Overrides the catalogue status (rarely needed). @default the code's status */
  readonly status?: number;
  /** Extra members for the problem document (RFC 9457 extension members), e.g. `errors` for validation. */
  readonly extensions?: Readonly<Record<string, unknown>>;
  /** Response headers the error needs, e.g. `Retry-After` for 429 and 503. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The underlying error; logged, never sent to the client unless `exposeErrors` is set. */
  readonly cause?: unknown;
}

/**
 * An error that maps to an HTTP problem response. `detail` is written for the client; anything
 * internal belongs in `cause`, which only the logs see.
 *
 * @example
 * throw new ApiError('RATE_LIMITED', { detail: 'Try again in 3 seconds.', headers: { 'retry-after': '3' } });
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly severity: ErrorSeverity;
  readonly title: string;
  readonly detail: string;
  readonly extensions: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, options: ApiErrorOptions = {}) {
    const definition = ERROR_CATALOGUE[code];
    const detail = options.detail ?? definition.title;
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.code = code;
    this.status = options.status ?? definition.status;
    this.severity = definition.severity;
    this.title = definition.title;
    this.detail = detail;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }
}

/**
 * Whether `error` is an {@link ApiError} of this copy of the module. Deliberately not by shape: many
 * libraries throw errors named `ApiError`, and taking one for ours would send its fields to clients.
 */
export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}
