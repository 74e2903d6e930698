/**
 * Sessions over HTTP, framework-neutral: the session cookie in, the store's answer out, and the
 * cookies to send back (a renewed id, a CSRF token, a deleted cookie). The Express and Fastify
 * adapters are thin shells over this.
 */
import type { ClientIpResolver } from '../http/client-ip.js';
import { createClientIpResolver } from '../http/client-ip.js';
import { cookieName as prefixedName, clearedCookie, readCookie, resolveCookieOptions, serializeCookie } from './cookie.js';
import type { CookieOptions, ResolvedCookieOptions } from './cookie.js';
import type { CsrfDecision, CsrfProtection } from './csrf.js';
import type {
  HeaderBag,
  SecureSessionStore,
  Session,
  SessionData,
  SessionInvalidReason,
  SessionRequestContext,
  SessionRotateResult,
  SessionSubject,
  SessionUpdateResult,
} from './types.js';

export interface SessionHttpOptions {
  /** The session store. */
  readonly store: SecureSessionStore;
  /** The cookie's name, sent as `__Host-<name>` (plain `<name>` with `cookie.secure: false`). @default 'sid' */
  readonly cookieName?: string;
  /**
   * Cookie attributes; the session cookie is always HttpOnly. Without `maxAgeSeconds` it is a
   * browser-session cookie (gone when the browser closes; the server's timeouts apply either way).
   * @default { secure: true, sameSite: 'lax' }
   */
  readonly cookie?: Omit<CookieOptions, 'httpOnly'>;
  /** Resolves the client address the session is bound to. @default createClientIpResolver() (the socket peer; no proxy trusted) */
  readonly clientIp?: ClientIpResolver;
  /** CSRF protection: its token is issued with every new session id and renewed when the id rotates. */
  readonly csrf?: CsrfProtection;
}

/** What the adapters hand over for one request and its response. */
export interface HttpExchange {
  readonly method: string | undefined;
  readonly headers: HeaderBag;
  readonly remoteAddress: string | undefined;
  /** Appends a `Set-Cookie` header to the response. */
  setCookie(value: string): void;
  /** Adds names to the response's `Vary` header. */
  vary(names: readonly string[]): void;
}

/** The session of one request, with the writes that keep the cookies in step. */
export interface SessionHandle {
  /** The session as last read or written in this request. */
  readonly session: Session;
  /** The CSRF token to put in forms or send back in the header (`undefined` without CSRF protection). */
  readonly csrfToken: string | undefined;
  /** Replaces the data, if no other request wrote since this one read (`version_conflict` otherwise). */
  update(data: SessionData): Promise<SessionUpdateResult>;
  /** Applies `change` with compare-and-set and retries, so concurrent requests never lose changes. */
  modify(change: (data: SessionData) => SessionData): Promise<SessionUpdateResult>;
  /**
   * New session id (and CSRF token) on a privilege change; the old id dies at once. Sends the new cookies.
   */
  regenerate(options?: { readonly data?: SessionData; readonly renewAbsoluteTimeout?: boolean }): Promise<SessionRotateResult>;
  /** Logout: deletes the session and its cookies. */
  destroy(): Promise<void>;
}

export type SessionLoad =
  | { readonly state: 'missing' }
  | { readonly state: 'invalid'; readonly reason: SessionInvalidReason }
  | { readonly state: 'valid'; readonly handle: SessionHandle };

export type SessionStartResult = { readonly ok: true; readonly handle: SessionHandle } | { readonly ok: false; readonly reason: 'locked' };

export interface SessionHttp {
  readonly store: SecureSessionStore;
  readonly csrf: CsrfProtection | undefined;
  /** The session cookie's name as sent (`__Host-sid`). */
  readonly cookieName: string;
  /** Every cookie this layer writes (session, CSRF): never to be forwarded upstream by a proxy. */
  readonly cookieNames: readonly string[];
  /** The request as the store sees it (client address and headers). */
  contextOf(exchange: Pick<HttpExchange, 'headers' | 'remoteAddress'>): SessionRequestContext;
  /**
   * Validates the request's session cookie. A dead cookie is deleted in the response; a session due
   * for renewal gets its new id (unless `renew: false`, for callers that cannot send cookies).
   * Rejects only when the store fails (`SessionStoreError`).
   */
  load(exchange: HttpExchange, options?: { readonly renew?: boolean }): Promise<SessionLoad>;
  /** Logs a user in: a new session and its cookies. Refused while the user is locked out. */
  start(exchange: HttpExchange, input: SessionSubject & { readonly data?: SessionData }): Promise<SessionStartResult>;
  /** The CSRF check of a request (`{ ok: true }` without CSRF protection). */
  checkCsrf(exchange: Pick<HttpExchange, 'method' | 'headers'>, handle: SessionHandle | undefined, body?: unknown): CsrfDecision;
}

/**
 * Creates the HTTP session layer.
 *
 * @throws TypeError naming the option when one is invalid.
 * @example
 * const sessions = createSessionHttp({ store, csrf, clientIp: createClientIpResolver({ trustedProxies: ['loopback'] }) });
 */
export function createSessionHttp(options: SessionHttpOptions): SessionHttp {
  const factory = 'createSessionHttp';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${factory}: options must be an object with a store`);
  const { store, csrf } = options;
  if (typeof store !== 'object' || store === null || typeof store.validate !== 'function') throw new TypeError(`${factory}: store must be a SecureSessionStore`);
  if (csrf !== undefined && (typeof csrf !== 'object' || csrf === null || typeof csrf.issueToken !== 'function')) {
    throw new TypeError(`${factory}: csrf must come from createCsrfProtection`);
  }
  const cookieOptions: ResolvedCookieOptions = resolveCookieOptions(factory, { ...options.cookie, httpOnly: true });
  const name = prefixedName(options.cookieName ?? 'sid', cookieOptions.secure);
  const clientIp = options.clientIp ?? createClientIpResolver();
  if (typeof clientIp !== 'function') throw new TypeError(`${factory}: clientIp must be a resolver from createClientIpResolver`);
  const cookieNames = Object.freeze(csrf?.cookieName === undefined ? [name] : [name, csrf.cookieName]);

  const contextOf = (exchange: Pick<HttpExchange, 'headers' | 'remoteAddress'>): SessionRequestContext => ({
    // The resolver only reads the list; its parameter type is merely not marked readonly.
    ip: clientIp(exchange.remoteAddress, exchange.headers['x-forwarded-for'] as string | string[] | undefined),
    headers: exchange.headers,
  });

  function sendCsrf(exchange: HttpExchange, session: Session): string | undefined {
    if (csrf === undefined) return undefined;
    const token = csrf.issueToken(session.id);
    const cookie = csrf.tokenCookie(token);
    if (cookie !== undefined) exchange.setCookie(cookie);
    return token;
  }

  function clearCookies(exchange: HttpExchange): void {
    exchange.setCookie(clearedCookie(name, cookieOptions));
    const csrfCookie = csrf?.clearTokenCookie();
    if (csrfCookie !== undefined) exchange.setCookie(csrfCookie);
  }

  const layer: Layer = {
    store,
    contextOf,
    sendSessionCookie: (exchange, token) => exchange.setCookie(serializeCookie(name, token, cookieOptions)),
    sendCsrf,
    clearCookies,
  };
  const handleFor = (exchange: HttpExchange, token: string, session: Session, csrfToken: string | undefined): SessionHandle =>
    new RequestSession(layer, exchange, token, session, csrfToken);

  return {
    store,
    csrf,
    cookieName: name,
    cookieNames,
    contextOf,

    async load(exchange, loadOptions) {
      const token = readCookie(exchange.headers.cookie, name);
      if (token === undefined || token === '') return { state: 'missing' };
      // The answer depends on the cookie from here on.
      exchange.vary(['Cookie']);
      const context = contextOf(exchange);
      const validation = await store.validate(token, context);
      if (!validation.valid) {
        clearCookies(exchange);
        return { state: 'invalid', reason: validation.reason };
      }
      let current = token;
      let session = validation.session;
      let renewed = false;
      if (validation.renewalDue && loadOptions?.renew !== false) {
        const renewal = await store.renew(token, context);
        // A failed renewal (another request renewed first) leaves this request on its valid session.
        if (renewal.ok) {
          current = renewal.token;
          session = renewal.session;
          renewed = true;
          layer.sendSessionCookie(exchange, current);
        }
      }
      let csrfToken: string | undefined;
      if (csrf !== undefined) {
        const existing = csrf.cookieName === undefined ? undefined : csrf.cookieToken(exchange.headers);
        // Re-issued when missing or not bound to the current id; never on a renewal's old binding.
        csrfToken = !renewed && existing !== undefined && csrf.verifyToken(existing, { id: session.id }) ? existing : sendCsrf(exchange, session);
      }
      return { state: 'valid', handle: handleFor(exchange, current, session, csrfToken) };
    },

    async start(exchange, input) {
      const previous = readCookie(exchange.headers.cookie, name);
      const created = await store.create({ tenant: input.tenant, userId: input.userId, data: input.data, context: contextOf(exchange) });
      if (!created.ok) return created;
      // Whatever id the browser held before (possibly one planted by an attacker) is gone.
      if (previous !== undefined && previous !== '') await store.revoke(previous);
      layer.sendSessionCookie(exchange, created.token);
      exchange.vary(['Cookie']);
      return { ok: true, handle: handleFor(exchange, created.token, created.session, sendCsrf(exchange, created.session)) };
    },

    checkCsrf(exchange, handle, body) {
      if (csrf === undefined) return { ok: true };
      if (csrf.isUnsafe(exchange.method)) {
        const session = handle?.session;
        return csrf.check({ method: exchange.method, headers: exchange.headers, body }, session === undefined ? undefined : { id: session.id, previousId: session.previousId });
      }
      return { ok: true };
    },
  };
}

/** What a {@link RequestSession} needs from its layer. */
interface Layer {
  readonly store: SecureSessionStore;
  contextOf(exchange: Pick<HttpExchange, 'headers' | 'remoteAddress'>): SessionRequestContext;
  sendSessionCookie(exchange: HttpExchange, token: string): void;
  sendCsrf(exchange: HttpExchange, session: Session): string | undefined;
  clearCookies(exchange: HttpExchange): void;
}

/**
 * The session of one request. A class rather than an object of closures: one is made for every
 * request with a session, and its methods are shared on the prototype. The cookie value lives in a
 * private field, out of reach of logging and serialisation.
 */
class RequestSession implements SessionHandle {
  #token: string;
  #session: Session;
  #csrfToken: string | undefined;
  #destroyed = false;

  constructor(
    private readonly layer: Layer,
    private readonly exchange: HttpExchange,
    token: string,
    session: Session,
    csrfToken: string | undefined,
  ) {
    this.#token = token;
    this.#session = session;
    this.#csrfToken = csrfToken;
  }

  get session(): Session {
    return this.#session;
  }

  get csrfToken(): string | undefined {
    return this.#csrfToken;
  }

  async update(data: SessionData): Promise<SessionUpdateResult> {
    return this.#written(await this.layer.store.update(this.#token, { data, expectedVersion: this.#session.version }));
  }

  async modify(change: (data: SessionData) => SessionData): Promise<SessionUpdateResult> {
    return this.#written(await this.layer.store.modify(this.#token, change));
  }

  async regenerate(options: { readonly data?: SessionData; readonly renewAbsoluteTimeout?: boolean } = {}): Promise<SessionRotateResult> {
    const result = await this.layer.store.regenerate(this.#token, {
      context: this.layer.contextOf(this.exchange),
      data: options.data,
      renewAbsoluteTimeout: options.renewAbsoluteTimeout,
    });
    if (result.ok) {
      this.#token = result.token;
      this.#session = result.session;
      this.layer.sendSessionCookie(this.exchange, result.token);
      this.#csrfToken = this.layer.sendCsrf(this.exchange, result.session);
    }
    return result;
  }

  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await this.layer.store.revoke(this.#token);
    this.layer.clearCookies(this.exchange);
    this.#csrfToken = undefined;
  }

  #written(result: SessionUpdateResult): SessionUpdateResult {
    if (result.ok) this.#session = result.session;
    return result;
  }
}
