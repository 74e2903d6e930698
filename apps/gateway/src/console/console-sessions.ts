import type { Redis } from 'ioredis';
import type { ApiKeyVerifier, KeyStore, LastUsedRecorder, RevocationBus } from 'bulwark/auth';
import type { AuditEntryInput, AuditLog } from 'bulwark/audit';
import type { Keyring } from 'bulwark/crypto';
import { ApiError } from 'bulwark/errors';
import { ipRateLimitKey } from 'bulwark/http';
import type { LoggerLike } from 'bulwark/observability';
import {
  appendVary,
  createCsrfProtection,
  createMemorySessionStore,
  createRedisSessionStore,
  createSessionHttp,
  csrfSecrets,
  readCookie,
  type CsrfFailure,
  type HttpExchange,
  type SecureSessionStore,
  type Session,
  type SessionHandle,
  type SessionHttp,
  type SessionStoreOptions,
} from 'bulwark/session';
import type { Registry } from 'prom-client';
import { hasScopes } from '../auth/identity.js';
import type { ConsoleConfig } from '../config/console-schema.js';
import type { BuiltinContext } from '../server/build-server.js';
import { createAdminKeyCheck, type AdminKeyCheck } from './admin-key-check.js';

/**
 * Console sign-in and its sessions: an admin API key is exchanged once for a server-side session
 * (`__Host-bulwark-console`, Secure, HttpOnly, SameSite=Strict), kept in the gateway's session store
 * — Redis when configured, this process otherwise — with the console's idle and absolute timeouts and
 * IP binding. The key itself is never stored: the session holds the key id, re-checked on every
 * request (a revoked key ends its sessions). Unsafe requests need the session's signed CSRF token
 * (bulwark/session), sent back in `x-csrf-token`, and must not come from another site.
 */
export interface ConsoleSessions {
  /** The cookie's name as sent: `__Host-bulwark-console`. */
  readonly cookieName: string;
  /** Whether the request carries a console session cookie (valid or not). */
  hasSession(context: BuiltinContext): boolean;
  /** The Fetch Metadata / Origin layer: throws 403 CSRF_REJECTED for an unsafe request from another site. */
  checkOrigin(context: BuiltinContext): void;
  /**
   * Exchanges an admin key for a session: 201 and the cookie, or one 401 CONSOLE_SIGN_IN_FAILED for
   * every reason, 429 ACCOUNT_LOCKED while the client's address is locked out. Audited.
   */
  signIn(context: BuiltinContext, key: unknown): Promise<ConsoleSessionView>;
  /**
   * The session of the request, its key still usable; for unsafe methods, the CSRF token checked.
   * Throws 401 SESSION_REQUIRED / SESSION_INVALID, 403 CSRF_*.
   */
  authenticate(context: BuiltinContext): Promise<ConsoleSession>;
  /** Ends the session of `session` (server-side) and clears the cookie. Audited. */
  signOut(context: BuiltinContext, session: ConsoleSession): Promise<void>;
  /** Stops listening to key revocations. */
  close(): void;
}

/** What the browser app gets about its session (never the cookie value). */
export interface ConsoleSessionView {
  readonly keyId: string;
  readonly csrfToken: string;
  readonly idleExpiresAt: string;
  readonly absoluteExpiresAt: string;
  /**
   * `console.idleTimeout`: every request moves `idleExpiresAt` this far ahead. The page stops its
   * live updates a little before this long without input, so an unattended tab lets its session end.
   */
  readonly idleTimeoutMs: number;
}

export interface ConsoleSession {
  readonly keyId: string;
  readonly handle: SessionHandle;
  view(): ConsoleSessionView;
}

export interface ConsoleSessionsOptions {
  readonly config: ConsoleConfig;
  readonly keyring: Keyring;
  /** The gateway's Redis, when configured: sessions and lockouts are shared by every instance. */
  readonly redis: Redis | undefined;
  readonly redisKeyPrefix: string;
  readonly keyStore: Pick<KeyStore, 'get'>;
  readonly apiKeys: Pick<ApiKeyVerifier, 'verify'>;
  readonly revocation: Pick<RevocationBus, 'subscribe'>;
  readonly lastUsed: Pick<LastUsedRecorder, 'record'>;
  readonly audit: Pick<AuditLog, 'append'>;
  /** The scope the admin API needs. */
  readonly scope: string;
  /** Origins besides the request's own allowed to send unsafe requests (`sessions.trustedOrigins`). */
  readonly trustedOrigins: readonly string[];
  readonly registry: Registry;
  readonly logger: LoggerLike;
  /** Clock of the session store and the key check. @default Date.now */
  readonly now?: () => number;
}

const COOKIE = 'bulwark-console';
/** Console sessions belong to key ids, in a tenant of their own. */
const SESSION_TENANT = 'console';
/** Sign-in failures are counted per client address, in another. */
const LOCKOUT_TENANT = 'console-sign-in';
/**
 * The device headers a session is bound to besides the address. `accept` and `accept-encoding` are
 * left out: a browser sends different values for the page and for `fetch()`.
 */
const FINGERPRINT_HEADERS = ['user-agent', 'accept-language'];

const CSRF_CODES: Readonly<Record<CsrfFailure, 'CSRF_REJECTED' | 'CSRF_TOKEN_MISSING' | 'CSRF_TOKEN_INVALID'>> = {
  cross_site: 'CSRF_REJECTED',
  missing: 'CSRF_TOKEN_MISSING',
  invalid: 'CSRF_TOKEN_INVALID',
};

export function createConsoleSessions(options: ConsoleSessionsOptions): ConsoleSessions {
  const { config, logger } = options;
  const now = options.now ?? (() => Date.now());
  const storeOptions: SessionStoreOptions = {
    keyring: options.keyring,
    idleTimeoutMs: config.idleTimeout,
    absoluteTimeoutMs: config.absoluteTimeout,
    ipBinding: config.bindIp ? 'exact' : 'off',
    fingerprint: { headers: FINGERPRINT_HEADERS },
    // A cookie replayed from elsewhere is refused; it must not lock the key's owner out as well.
    lockout: { threshold: config.lockout.maxFailures, windowMs: config.lockout.window, lockMs: config.lockout.lockFor, countMismatches: false },
    now,
    registry: options.registry,
    logger,
  };
  const store: SecureSessionStore =
    options.redis === undefined ? createMemorySessionStore(storeOptions) : createRedisSessionStore({ ...storeOptions, client: options.redis, keyPrefix: `${options.redisKeyPrefix}console:` });
  const sessions: SessionHttp = createSessionHttp({
    store,
    cookieName: COOKIE,
    cookie: { secure: true, sameSite: 'strict' },
    // The address is the one the gateway's edge resolved (trusted proxies only): passed as is.
    clientIp: (address) => address ?? 'unknown',
    // No double-submit cookie: the page keeps the token it got from the session API in memory.
    csrf: createCsrfProtection({ secrets: csrfSecrets(options.keyring), trustedOrigins: options.trustedOrigins, cookie: false, registry: options.registry, logger }),
  });
  const csrf = sessions.csrf;
  if (csrf === undefined) throw new Error('unreachable: the console sessions have CSRF protection');
  const keys: AdminKeyCheck = createAdminKeyCheck({ keyStore: options.keyStore, revocation: options.revocation, scope: options.scope, now });

  const lockoutSubject = (context: BuiltinContext): { tenant: string; userId: string } => ({ tenant: LOCKOUT_TENANT, userId: ipRateLimitKey(context.peer.clientIp) });

  const audit = async (context: BuiltinContext, entry: Pick<AuditEntryInput, 'actor' | 'action' | 'target' | 'outcome' | 'input'>): Promise<void> => {
    await options.audit.append({ ...entry, requestId: context.request.id, clientIp: context.peer.clientIp });
  };

  const consoleSession = (keyId: string, handle: SessionHandle): ConsoleSession => ({
    keyId,
    handle,
    view: () => viewOf(keyId, handle.session, handle.csrfToken ?? '', config.idleTimeout),
  });

  return {
    cookieName: sessions.cookieName,

    hasSession(context) {
      const value = readCookie(context.request.headers.cookie, sessions.cookieName);
      return value !== undefined && value !== '';
    },

    checkOrigin(context) {
      if (csrf.isUnsafe(context.request.method) && csrf.checkOrigin(context.request.headers) !== undefined) throw new ApiError('CSRF_REJECTED');
    },

    async signIn(context, key) {
      const subject = lockoutSubject(context);
      const lockout = await store.lockoutStatus(subject);
      if (lockout.locked) {
        // Not audited: a locked-out address could otherwise fill the audit log at no cost.
        logger.warn({ clientIp: context.peer.clientIp, lockedUntil: lockout.lockedUntil }, 'console: sign-in refused, address locked out');
        throw locked(lockout.lockedUntil, now());
      }
      const result = await options.apiKeys.verify(key);
      const failure = !result.ok ? result.reason : hasScopes(result.key.scopes, [options.scope]) ? undefined : 'insufficient_scope';
      if (failure !== undefined) {
        const status = await store.recordFailure(subject);
        const keyId = result.ok ? result.key.id : null;
        await audit(context, { actor: keyId ?? 'anonymous', action: 'console.sign_in', target: keyId, outcome: 'failure', input: { reason: failure, locked: status.locked } }).catch((error: unknown) =>
          logger.warn({ err: error }, 'console: audit append of a failed sign-in failed'),
        );
        // The same answer for every reason: the caller learns nothing about the key.
        throw new ApiError('CONSOLE_SIGN_IN_FAILED', { detail: 'The key was not accepted.' });
      }
      if (!result.ok) throw new Error('unreachable: a failed verification is handled above');
      const keyId = result.key.id;
      // Written first: a sign-in the audit log cannot record does not happen.
      await audit(context, { actor: keyId, action: 'console.sign_in', target: keyId, outcome: 'success', input: null });
      await store.resetFailures(subject);
      const started = await sessions.start(exchangeOf(context), { tenant: SESSION_TENANT, userId: keyId, data: { keyId } });
      if (!started.ok) throw locked(undefined, now());
      return viewOf(keyId, started.handle.session, started.handle.csrfToken ?? '', config.idleTimeout);
    },

    async authenticate(context) {
      const exchange = exchangeOf(context);
      const loaded = await sessions.load(exchange, { renew: false });
      if (loaded.state === 'missing') throw new ApiError('SESSION_REQUIRED', { detail: 'Sign in to the console first.' });
      if (loaded.state === 'invalid') throw new ApiError('SESSION_INVALID', { detail: 'The console session ended: sign in again.' });
      const { handle } = loaded;
      const keyId = handle.session.userId;
      if (!(await keys.isUsable(keyId))) {
        await handle.destroy();
        throw new ApiError('SESSION_INVALID', { detail: 'The key behind this console session no longer has admin access: sign in again.' });
      }
      const decision = sessions.checkCsrf(exchange, handle);
      if (!decision.ok) throw new ApiError(CSRF_CODES[decision.reason]);
      options.lastUsed.record(keyId);
      return consoleSession(keyId, handle);
    },

    async signOut(context, session) {
      await audit(context, { actor: session.keyId, action: 'console.sign_out', target: session.keyId, outcome: 'success', input: null });
      await session.handle.destroy();
    },

    close: () => keys.close(),
  };
}

function viewOf(keyId: string, session: Session, csrfToken: string, idleTimeoutMs: number): ConsoleSessionView {
  return {
    keyId,
    csrfToken,
    idleExpiresAt: new Date(session.idleExpiresAt).toISOString(),
    absoluteExpiresAt: new Date(session.absoluteExpiresAt).toISOString(),
    idleTimeoutMs,
  };
}

function locked(lockedUntil: number | undefined, nowMs: number): ApiError {
  const seconds = lockedUntil === undefined ? 60 : Math.max(1, Math.ceil((lockedUntil - nowMs) / 1000));
  return new ApiError('ACCOUNT_LOCKED', { detail: 'Too many failed sign-ins from this address; try again later.', headers: { 'retry-after': String(seconds) } });
}

/**
 * The request and response as bulwark/session sees them. Cookies and `Vary` go on the raw
 * response, so that they are sent with a problem answer too (a dead session's cookie is cleared).
 */
function exchangeOf(context: BuiltinContext): HttpExchange {
  const response = context.reply.raw;
  return {
    method: context.request.method,
    headers: context.request.headers,
    remoteAddress: context.peer.clientIp,
    setCookie(value) {
      const current = response.getHeader('set-cookie');
      response.setHeader('set-cookie', [...(Array.isArray(current) ? current : typeof current === 'string' ? [current] : []), value]);
    },
    vary(names) {
      response.setHeader('vary', appendVary(response.getHeader('vary'), names));
    },
  };
}
