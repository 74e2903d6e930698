/**
 * Secure sessions, account lockout, cookies and CSRF protection. See docs/session.md and docs/csrf.md.
 */
export { createRedisSessionStore } from './redis-store.js';
export type { RedisSessionStoreOptions } from './redis-store.js';
export { createMemorySessionStore } from './memory-store.js';
export type { MemorySessionStoreOptions } from './memory-store.js';
export { SESSION_DEFAULTS } from './options.js';
export type { SessionStoreOptions, LockoutOptions, LockoutBackoffOptions } from './options.js';
export type { IpBinding } from './ip-binding.js';
export { deviceFingerprint, DEFAULT_FINGERPRINT_HEADERS } from './fingerprint.js';
export { SessionStoreError, isSessionStoreError } from './store-error.js';
export type {
  JsonValue,
  SessionData,
  SessionSubject,
  HeaderBag,
  SessionRequestContext,
  Session,
  SessionInvalidReason,
  SessionValidation,
  SessionCreateResult,
  SessionUpdateResult,
  SessionRotateResult,
  LockoutStatus,
  RegenerateOptions,
  SecureSessionStore,
} from './types.js';
export { createSessionHttp } from './session-http.js';
export type { SessionHttp, SessionHttpOptions, HttpExchange, SessionHandle, SessionLoad, SessionStartResult } from './session-http.js';
export { createSessionPort } from './session-port.js';
export type { SessionPort, SessionPortOptions, SessionPortVerdict, PortRequest } from './session-port.js';
export { createCsrfProtection, csrfSecrets } from './csrf.js';
export type { CsrfProtection, CsrfOptions, CsrfMode, CsrfFailure, CsrfDecision, CsrfRequest, CsrfBinding } from './csrf.js';
export { serializeCookie, clearedCookie, readCookie, cookieName, resolveCookieOptions, MAX_COOKIE_BYTES } from './cookie.js';
export type { CookieOptions, ResolvedCookieOptions, SameSite } from './cookie.js';
export { appendVary } from './vary.js';
