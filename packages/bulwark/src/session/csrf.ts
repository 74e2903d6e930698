/**
 * CSRF protection in two layers, for every unsafe method whatever its Content-Type:
 * 1. origin: Fetch Metadata (`Sec-Fetch-Site`), with the `Origin` header as the fallback
 *    (csrf-origin.ts) — stops cross-site requests before anything else, logged-in or not (so login
 *    forms are covered too);
 * 2. token: with a session, a signed double-submit token bound to the session id (csrf-token.ts),
 *    sent back in a header (or a form field) and, by default, matching the CSRF cookie.
 * A report-only mode logs and counts what would be refused, for rollout.
 */
import type { Registry } from 'prom-client';
import type { Keyring } from '../crypto/keyring.js';
import { safeEqual } from '../auth/safe-equal.js';
import type { LoggerLike } from '../observability/logger-like.js';
import { silentLogger } from '../observability/logger-like.js';
import { defaultMetricsRegistry } from '../observability/metrics-registry.js';
import { cookieName, clearedCookie, readCookie, resolveCookieOptions, serializeCookie } from './cookie.js';
import type { CookieOptions, ResolvedCookieOptions } from './cookie.js';
import { isSameOriginRequest, normalizeOrigin } from './csrf-origin.js';
import type { OriginPolicy } from './csrf-origin.js';
import { createCsrfTokens } from './csrf-token.js';
import { csrfRejections } from './metrics.js';
import type { HeaderBag } from './types.js';

/** Methods that change nothing (RFC 9110 §9.2.1) and are never checked. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const HEADER_NAME = /^[a-z0-9-]{1,64}$/;
const FIELD_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export type CsrfMode = 'enforce' | 'report-only';

/** Why a request failed the check: from another site, no token, or a token that does not verify. */
export type CsrfFailure = 'cross_site' | 'missing' | 'invalid';

export interface CsrfOptions {
  /**
   * HMAC secrets for the tokens, each ≥ 32 bytes: the first signs, all verify (rotation). From the
   * keyring: {@link csrfSecrets}`(keyring)`.
   */
  readonly secrets: readonly Buffer[];
  /** Other origins allowed to send unsafe requests (`https://admin.example.com`). @default [] */
  readonly trustedOrigins?: readonly string[];
  /** Accept `Sec-Fetch-Site: same-site` (sibling subdomains). @default false */
  readonly allowSameSite?: boolean;
  /** `report-only` lets failing requests through, logging and counting them. @default 'enforce' */
  readonly mode?: CsrfMode;
  /** The request header carrying the token. @default 'x-csrf-token' */
  readonly headerName?: string;
  /** The form field carrying the token (urlencoded or multipart bodies parsed by the framework). @default '_csrf' */
  readonly fieldName?: string;
  /**
   * The double-submit cookie (readable by the page's JavaScript, so not HttpOnly), sent as
   * `__Host-<name>`; `false` verifies the signed token alone (render it into the page instead).
   * @default { name: 'csrf' }
   */
  readonly cookie?: (Omit<CookieOptions, 'httpOnly' | 'maxAgeSeconds'> & { readonly name?: string }) | false;
  /** Registry for `csrf_rejected_total{reason, mode}`. @default defaultMetricsRegistry() */
  readonly registry?: Registry;
  /** Told about refusals (warn). @default silent */
  readonly logger?: LoggerLike;
}

/** The request as the check sees it. */
export interface CsrfRequest {
  readonly method: string | undefined;
  readonly headers: HeaderBag;
  /** The parsed body, when the framework parsed one (for the form field). */
  readonly body?: unknown;
}

/** The session ids a token may be bound to: the current id, and the one a renewal replaced while it is honoured. */
export interface CsrfBinding {
  readonly id: string;
  readonly previousId?: string | undefined;
}

export type CsrfDecision =
  | { readonly ok: true; readonly reported?: CsrfFailure | undefined }
  | { readonly ok: false; readonly reason: CsrfFailure };

export interface CsrfProtection {
  readonly mode: CsrfMode;
  readonly headerName: string;
  readonly fieldName: string;
  /** The cookie name (`__Host-csrf`), or `undefined` without the double-submit cookie. */
  readonly cookieName: string | undefined;
  /** The request headers an unsafe request's answer depends on: add them to `Vary`. */
  readonly varyHeaders: readonly string[];
  /** Whether `method` is checked (everything except GET, HEAD, OPTIONS and TRACE). */
  isUnsafe(method: string | undefined): boolean;
  /** The origin layer alone: `undefined` when the request is from our site. */
  checkOrigin(headers: HeaderBag): 'cross_site' | undefined;
  /** A fresh token bound to the session id. */
  issueToken(sessionId: string): string;
  /** Whether `token` verifies for the binding (current or previous id). Never throws. */
  verifyToken(token: unknown, binding: CsrfBinding): boolean;
  /**
   * The whole check of one request: nothing for safe methods; the origin layer; with a session, the
   * token. In report-only mode a failure is logged and counted and the decision is `ok` with
   * `reported`. Never throws on hostile input.
   */
  check(request: CsrfRequest, session: CsrfBinding | undefined): CsrfDecision;
  /** The `Set-Cookie` value carrying `token`, or `undefined` without the cookie. */
  tokenCookie(token: string): string | undefined;
  /** The `Set-Cookie` value deleting the cookie, or `undefined` without it. */
  clearTokenCookie(): string | undefined;
  /** The token in the request's CSRF cookie, if any. */
  cookieToken(headers: HeaderBag): string | undefined;
}

/**
 * The CSRF secrets from a keyring: the `csrf` subkey of the current master key, then the previous
 * key's during a rotation (tokens issued before it still verify).
 *
 * @example
 * const csrf = createCsrfProtection({ secrets: csrfSecrets(keyring) });
 */
export function csrfSecrets(keyring: Keyring): Buffer[] {
  const previous = keyring.previousSubkey('csrf');
  return previous === undefined ? [keyring.subkey('csrf')] : [keyring.subkey('csrf'), previous];
}

/**
 * Creates the CSRF protection. Use it through the Express or Fastify adapter (`csrfProtection`),
 * with the session adapters issuing the token.
 *
 * @throws TypeError naming the option when one is invalid.
 * @example
 * const csrf = createCsrfProtection({ secrets: csrfSecrets(keyring), trustedOrigins: ['https://admin.example.com'] });
 * csrf.check({ method: 'POST', headers: req.headers, body: req.body }, { id: session.id }); // { ok: true } or { ok: false, reason }
 */
export function createCsrfProtection(options: CsrfOptions): CsrfProtection {
  const factory = 'createCsrfProtection';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${factory}: options must be an object with secrets`);
  const tokens = createCsrfTokens(factory, options.secrets);
  const trusted = options.trustedOrigins ?? [];
  if (!Array.isArray(trusted)) throw new TypeError(`${factory}: trustedOrigins must be an array of origins`);
  const allowSameSite = options.allowSameSite ?? false;
  if (typeof allowSameSite !== 'boolean') throw new TypeError(`${factory}: allowSameSite must be a boolean`);
  const policy: OriginPolicy = { trustedOrigins: new Set(trusted.map((origin: unknown) => normalizeOrigin(factory, origin))), allowSameSite };
  const mode = options.mode ?? 'enforce';
  if (mode !== 'enforce' && mode !== 'report-only') throw new TypeError(`${factory}: mode must be 'enforce' or 'report-only'`);
  const headerName = (options.headerName ?? 'x-csrf-token').toLowerCase();
  if (!HEADER_NAME.test(headerName)) throw new TypeError(`${factory}: headerName must be a header name`);
  const fieldName = options.fieldName ?? '_csrf';
  if (!FIELD_NAME.test(fieldName)) throw new TypeError(`${factory}: fieldName must be 1–64 letters, digits, '_', '.' or '-'`);
  let cookie: { readonly name: string; readonly options: ResolvedCookieOptions } | undefined;
  if (options.cookie !== false) {
    const cookieOptions = resolveCookieOptions(factory, { ...options.cookie, httpOnly: false });
    cookie = { name: cookieName(options.cookie?.name ?? 'csrf', cookieOptions.secure), options: cookieOptions };
  }
  const rejections = csrfRejections(options.registry ?? defaultMetricsRegistry());
  const logger = options.logger ?? silentLogger;

  const isUnsafe = (method: string | undefined): boolean => !SAFE_METHODS.has((method ?? 'GET').toUpperCase());

  function submittedToken(request: CsrfRequest): string | undefined {
    const header = request.headers[headerName];
    if (typeof header === 'string') return header.trim();
    const body = request.body;
    if (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.hasOwn(body, fieldName)) {
      const field = (body as Record<string, unknown>)[fieldName];
      if (typeof field === 'string') return field;
    }
    return undefined;
  }

  function tokenFailure(request: CsrfRequest, session: CsrfBinding): CsrfFailure | undefined {
    const submitted = submittedToken(request);
    if (submitted === undefined || submitted === '') return 'missing';
    if (cookie !== undefined && !safeEqual(readCookie(request.headers.cookie, cookie.name) ?? '', submitted)) return 'invalid';
    return protection.verifyToken(submitted, session) ? undefined : 'invalid';
  }

  const protection: CsrfProtection = {
    mode,
    headerName,
    fieldName,
    cookieName: cookie?.name,
    varyHeaders: Object.freeze(['Origin', 'Sec-Fetch-Site']),
    isUnsafe,
    checkOrigin(headers) {
      return isSameOriginRequest(headers, policy) ? undefined : 'cross_site';
    },
    issueToken(sessionId) {
      return tokens.issue(sessionId);
    },
    verifyToken(token, binding) {
      const ids = binding.previousId === undefined ? [binding.id] : [binding.id, binding.previousId];
      return tokens.verify(token, ids);
    },
    check(request, session) {
      if (!isUnsafe(request.method)) return { ok: true };
      const failure = protection.checkOrigin(request.headers) ?? (session === undefined ? undefined : tokenFailure(request, session));
      if (failure === undefined) return { ok: true };
      rejections.inc({ reason: failure, mode });
      logger.warn({ reason: failure, method: request.method, mode }, mode === 'enforce' ? 'csrf: request refused' : 'csrf: request would be refused (report-only)');
      return mode === 'enforce' ? { ok: false, reason: failure } : { ok: true, reported: failure };
    },
    tokenCookie(token) {
      return cookie === undefined ? undefined : serializeCookie(cookie.name, token, cookie.options);
    },
    clearTokenCookie() {
      return cookie === undefined ? undefined : clearedCookie(cookie.name, cookie.options);
    },
    cookieToken(headers) {
      return cookie === undefined ? undefined : readCookie(headers.cookie, cookie.name);
    },
  };
  return Object.freeze(protection);
}
