/**
 * Session checks for a proxy that did not create the session (the gateway's `auth: { type:
 * session }`): verify the cookie, run the CSRF check, never write a cookie. Structurally the
 * gateway's `SessionPort`.
 */
import { isSessionStoreError } from './store-error.js';
import type { SessionHandle, SessionHttp } from './session-http.js';
import type { HeaderBag, Session } from './types.js';

/** The part of Node's `IncomingMessage` the port reads. */
export interface PortRequest {
  readonly method?: string | undefined;
  readonly headers: HeaderBag;
  readonly socket: { readonly remoteAddress?: string | undefined };
}

export type SessionPortVerdict =
  | { readonly ok: true; readonly subject: string; readonly tenant: string; readonly scopes: readonly string[]; readonly session: Session }
  | { readonly ok: false; readonly reason: 'missing' | 'invalid' | 'unavailable' };

export interface SessionPortOptions {
  /** The scopes a session grants. @default the string entries of `session.data.scopes`, or none */
  readonly scopesOf?: (session: Session) => readonly string[];
}

export interface SessionPort {
  readonly cookieNames: readonly string[];
  verify(request: PortRequest): Promise<SessionPortVerdict>;
  /** The CSRF check of a request whose session `verify` loaded: `undefined` when it passes. */
  checkCsrf(request: PortRequest): Promise<'missing' | 'invalid' | 'cross_site' | undefined>;
}

const noop = (): void => undefined;

/**
 * @example
 * const services = { sessions: createSessionPort(createSessionHttp({ store, csrf })) };
 */
export function createSessionPort(http: SessionHttp, options: SessionPortOptions = {}): SessionPort {
  const scopesOf = options.scopesOf ?? defaultScopes;
  if (typeof scopesOf !== 'function') throw new TypeError('createSessionPort: scopesOf must be a function (session) => string[]');
  const loaded = new WeakMap<PortRequest, SessionHandle>();
  const exchangeOf = (request: PortRequest) => ({ method: request.method, headers: request.headers, remoteAddress: request.socket.remoteAddress, setCookie: noop, vary: noop });
  return {
    cookieNames: http.cookieNames,
    async verify(request) {
      try {
        const result = await http.load(exchangeOf(request), { renew: false });
        if (result.state !== 'valid') return { ok: false, reason: result.state };
        loaded.set(request, result.handle);
        const { session } = result.handle;
        return { ok: true, subject: session.userId, tenant: session.tenant, scopes: scopesOf(session), session };
      } catch (error) {
        if (isSessionStoreError(error)) return { ok: false, reason: 'unavailable' };
        throw error;
      }
    },
    async checkCsrf(request) {
      const decision = http.checkCsrf(exchangeOf(request), loaded.get(request));
      return decision.ok ? undefined : decision.reason;
    },
  };
}

function defaultScopes(session: Session): readonly string[] {
  const scopes = session.data.scopes;
  return Array.isArray(scopes) ? scopes.filter((scope): scope is string => typeof scope === 'string') : [];
}
