import { endsSession, problemFrom, unreachable, type Problem } from './problem.js';

/** What every call returns: the parsed body, or the problem in plain words. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: Problem };

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  /** Sent as JSON. */
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  /**
   * A 401 is an answer of its own here (signing in with a wrong key), not the end of the session.
   * @default false
   */
  readonly own401?: boolean;
}

const UNSAFE: ReadonlySet<Method> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The CSRF token of the current session, held in memory only (a reload asks the gateway for it
 * again). Sent as `x-csrf-token` with every unsafe request, with `content-type: application/json`;
 * the browser adds `Sec-Fetch-Site` itself.
 */
let csrfToken: string | undefined;

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

type SessionEndListener = (problem: Problem) => void;
const sessionEndListeners = new Set<SessionEndListener>();

/** Called when a request finds the session gone (401); returns the unsubscribe function. */
export function onSessionEnd(listener: SessionEndListener): () => void {
  sessionEndListeners.add(listener);
  return () => sessionEndListeners.delete(listener);
}

type AnswerListener = (status: number) => void;
const answerListeners = new Set<AnswerListener>();

/**
 * Called with the status of every answer the gateway gives the session (anything but 401): each one
 * moved the session's idle deadline on the gateway. Returns the unsubscribe function.
 */
export function onAnswer(listener: AnswerListener): () => void {
  answerListeners.add(listener);
  return () => answerListeners.delete(listener);
}

async function bodyOf(response: Response): Promise<unknown> {
  if (response.status === 204) return undefined;
  const type = (response.headers.get('content-type') ?? '').toLowerCase();
  if (!type.includes('json')) return undefined;
  try {
    return (await response.json()) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * One same-origin request to the gateway (`credentials: 'same-origin'`, so the session cookie goes
 * with it). The caller names the shape it expects: the admin API's answers are trusted to match it.
 * Never throws, except the AbortError of an aborted `signal`.
 */
export async function request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<Result<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (UNSAFE.has(method)) {
    headers['content-type'] = 'application/json';
    if (csrfToken !== undefined) headers['x-csrf-token'] = csrfToken;
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (error) {
    if (options.signal?.aborted === true) throw error;
    return { ok: false, problem: unreachable() };
  }
  const body = await bodyOf(response);
  if (response.status !== 401) for (const listener of answerListeners) listener(response.status);
  if (response.ok) return { ok: true, value: body as T };
  const problem = problemFrom(response.status, body, response.headers, Date.now());
  if (options.own401 !== true && endsSession(problem)) for (const listener of sessionEndListeners) listener(problem);
  return { ok: false, problem };
}

/** Query string of the defined, non-empty values. */
export function query(values: Readonly<Record<string, string | number | boolean | undefined>>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === '') continue;
    params.set(name, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
