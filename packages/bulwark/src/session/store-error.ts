/**
 * The one exception of the session store: its backing store failed (Redis down, too slow, or
 * answering with an error). Hostile input never throws; this does, because no answer about a
 * session can be given. Adapters turn it into 503 `DEPENDENCY_UNAVAILABLE` with `Retry-After`.
 */
export class SessionStoreError extends Error {
  /** `timeout`: no answer in time; `unavailable`: the connection failed; `error`: Redis answered with an error. */
  readonly kind: 'timeout' | 'unavailable' | 'error';

  constructor(kind: SessionStoreError['kind'], message: string, options?: { readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SessionStoreError';
    this.kind = kind;
  }
}

/** Whether `error` is a {@link SessionStoreError}. */
export function isSessionStoreError(error: unknown): error is SessionStoreError {
  return error instanceof SessionStoreError;
}
