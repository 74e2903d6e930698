/**
 * RFC 9457 problem details as the console shows them: a title and a detail in plain words, field
 * errors next to their fields, the request id small for support. Never the raw JSON.
 */

/** One field error of a `VALIDATION_FAILED` problem (`path` like `name`, `scopes.0`, `limits.1.windowMs`). */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export interface Problem {
  /** The HTTP status; 0 when the gateway did not answer at all. */
  readonly status: number;
  /** The stable error code (`API_KEY_INVALID`…), when the gateway sent one. */
  readonly code: string | undefined;
  readonly title: string;
  readonly detail: string | undefined;
  readonly requestId: string | undefined;
  readonly errors: readonly FieldError[];
  /** From `Retry-After` (delta seconds), when present. */
  readonly retryAfterSeconds: number | undefined;
}

/** Titles for answers that carry no problem document (a proxy in between, an old gateway). */
const STATUS_TITLES: Readonly<Record<number, string>> = {
  400: 'The request was not accepted',
  401: 'Sign-in required',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  413: 'The request is too large',
  415: 'Unsupported request format',
  422: 'Some fields need attention',
  429: 'Too many requests',
  500: 'The gateway failed to answer',
  502: 'The gateway could not reach a service',
  503: 'Temporarily unavailable',
  504: 'The gateway timed out',
};

/**
 * Plain words for the codes an operator meets in the console, where the gateway's title is written
 * for developers (`Invalid CSRF token`). `detail` replaces the gateway's when it says what to do.
 */
const PLAIN: Readonly<Record<string, { readonly title: string; readonly detail?: string }>> = {
  CSRF_TOKEN_MISSING: { title: "The page's security token was not accepted", detail: 'Reload the page and try again; nothing was changed.' },
  CSRF_TOKEN_INVALID: { title: "The page's security token was not accepted", detail: 'Reload the page and try again; nothing was changed.' },
  CSRF_REJECTED: { title: 'Refused: the request came from another site', detail: 'Changes can only be made from the console itself; nothing was changed.' },
  VALIDATION_FAILED: { title: 'Some fields need attention' },
  INSUFFICIENT_SCOPE: { title: 'This key is not allowed to do that' },
  DEPENDENCY_UNAVAILABLE: { title: "The gateway's database or Redis did not answer", detail: 'Try again in a moment. If it goes on, check the gateway health page.' },
};

function text(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  return trimmed.length <= max ? trimmed : `${trimmed.slice(0, max - 1)}…`;
}

function fieldErrors(value: unknown): FieldError[] {
  if (!Array.isArray(value)) return [];
  const found: FieldError[] = [];
  for (const item of value.slice(0, 50)) {
    if (typeof item !== 'object' || item === null) continue;
    const { path, message } = item as { path?: unknown; message?: unknown };
    const messageText = text(message, 300);
    if (messageText === undefined) continue;
    found.push({ path: text(path, 200) ?? '(body)', message: messageText });
  }
  return found;
}

/** `Retry-After` as delta seconds or an HTTP date; `undefined` when absent or unreadable. */
export function retryAfterSecondsOf(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/**
 * The problem of an error answer: the problem+json document when there is one (every field checked,
 * strings cut), else a title for the status. `body` is the parsed JSON or `undefined`.
 */
export function problemFrom(status: number, body: unknown, headers: { get(name: string): string | null }, nowMs: number): Problem {
  const document = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const code = text(document['code'], 100);
  const plain = code === undefined ? undefined : PLAIN[code];
  return {
    status,
    code,
    title: plain?.title ?? text(document['title'], 200) ?? STATUS_TITLES[status] ?? `The gateway answered ${status}`,
    detail: plain?.detail ?? text(document['detail'], 1000),
    requestId: text(document['requestId'], 128) ?? text(headers.get('x-request-id'), 128),
    errors: fieldErrors(document['errors']),
    retryAfterSeconds: retryAfterSecondsOf(headers.get('retry-after'), nowMs),
  };
}

/** The problem of a request that got no answer (network down, gateway stopped). */
export function unreachable(): Problem {
  return {
    status: 0,
    code: undefined,
    title: 'The gateway did not answer',
    detail: 'Check that it is running and reachable, then try again.',
    requestId: undefined,
    errors: [],
    retryAfterSeconds: undefined,
  };
}

/** A problem found in the page before anything was sent (a required field left empty). */
export function localProblem(title: string, errors: readonly FieldError[] = [], detail?: string): Problem {
  return { status: 0, code: undefined, title, detail, requestId: undefined, errors, retryAfterSeconds: undefined };
}

/**
 * Whether a problem means the console session is gone (expired, revoked, signed out elsewhere):
 * outside sign-in, a 401 from the console or the admin API can only mean that.
 */
export function endsSession(problem: Problem): boolean {
  return problem.status === 401;
}

/** The field errors whose path starts with `field` (`limits` matches `limits.0.windowMs`). */
export function errorsFor(problem: Problem | undefined, field: string): FieldError[] {
  if (problem === undefined) return [];
  return problem.errors.filter((error) => error.path === field || error.path.startsWith(`${field}.`));
}

/** The field errors that belong to none of `fields`: shown with the problem's summary instead. */
export function otherErrors(problem: Problem, fields: readonly string[]): FieldError[] {
  return problem.errors.filter((error) => !fields.some((field) => error.path === field || error.path.startsWith(`${field}.`)));
}
