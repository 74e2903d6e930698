import { ApiError } from 'bulwark/errors';
import type { Exchange } from '../pipeline/exchange.js';
import { refuse, type AuthOutcome, type Authenticator } from './authenticator.js';

/**
 * The seam to the session module (`bulwark/session`): what the gateway needs to authenticate a
 * browser session — the session behind the request's cookie, and the CSRF check of unsafe methods.
 * The gateway does not create sessions (the application behind it logs users in); it only checks
 * them. Provide an implementation through the gateway services once the session module exists.
 */
export interface SessionPort {
  /** The cookie names the session uses: never forwarded upstream when consumed. */
  readonly cookieNames: readonly string[];
  /** The session of the request, or why there is none. Never throws on hostile input. */
  verify(request: Exchange['request']): Promise<{ readonly ok: true; readonly subject: string; readonly tenant?: string | undefined; readonly scopes: readonly string[] } | { readonly ok: false; readonly reason: 'missing' | 'invalid' | 'unavailable' }>;
  /** The CSRF check of an unsafe request: `undefined` when it passes. */
  checkCsrf(request: Exchange['request']): Promise<'missing' | 'invalid' | 'cross_site' | undefined>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `auth: { type: session }` over a {@link SessionPort}. */
export function createSessionAuthenticator(port: SessionPort, options: { readonly csrf: boolean }): Authenticator {
  return {
    scheme: 'session',
    consumedHeaders: [],
    needsRawBody: false,
    async authenticate(exchange): Promise<AuthOutcome> {
      const session = await port.verify(exchange.request);
      if (!session.ok) {
        if (session.reason === 'unavailable') return refuse(new ApiError('DEPENDENCY_UNAVAILABLE', { headers: { 'retry-after': '1' } }), 'unavailable');
        return refuse(new ApiError(session.reason === 'missing' ? 'SESSION_REQUIRED' : 'SESSION_INVALID'), session.reason);
      }
      if (options.csrf && !SAFE_METHODS.has(exchange.request.method ?? 'GET')) {
        const csrf = await port.checkCsrf(exchange.request);
        if (csrf !== undefined) {
          const code = csrf === 'missing' ? 'CSRF_TOKEN_MISSING' : csrf === 'invalid' ? 'CSRF_TOKEN_INVALID' : 'CSRF_REJECTED';
          return refuse(new ApiError(code), `csrf_${csrf}`);
        }
      }
      return { ok: true, identity: { method: 'session', keyId: session.subject, tenant: session.tenant, scopes: session.scopes } };
    },
  };
}
