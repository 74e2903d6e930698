import type { ApiKeyVerifier, KeyStore, RevocationBus } from 'bulwark/auth';
import type { AuditLog } from 'bulwark/audit';
import type { SecureSessionStore } from 'bulwark/session';
import type { SqlClient } from 'bulwark/sql';
import { ApiError, errors } from 'bulwark/errors';
import { createJsonParser } from 'bulwark/http';
import type { LoggerLike } from 'bulwark/observability';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import { hasScopes } from '../auth/identity.js';
import type { LimiterSet } from '../limits/limiter-set.js';
import { parseQueryStrict } from '../pipeline/safe-parsers.js';
import { readBody } from '../pipeline/read-body.js';
import type { BreakerSet } from '../proxy/breakers.js';
import type { BuiltinContext } from '../server/build-server.js';
import type { BreakerTransitions } from './breaker-transitions.js';
import type { OverviewSampler } from './overview-sampler.js';
import type { AuditEntryInput } from 'bulwark/audit';

/** Admin request bodies are small JSON documents. */
const MAX_ADMIN_BODY_BYTES = 64 * 1024;
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** What the admin endpoints work with. */
export interface AdminServices {
  readonly keyStore: KeyStore;
  readonly apiKeys: ApiKeyVerifier;
  readonly revocation: RevocationBus;
  readonly audit: AuditLog;
  /** The database of the key store and the audit log: changes and their entries share a transaction. */
  readonly sql: SqlClient | undefined;
  readonly breakers: BreakerSet;
  readonly limiters: LimiterSet;
  /** The session store (revoke a user's sessions). */
  readonly sessions: SecureSessionStore;
  /** The gateway's metrics (limit decisions, the overview). */
  readonly registry: Registry;
  /** Recent state changes of the breakers. */
  readonly transitions: BreakerTransitions;
  /** The overview's samples. */
  readonly overview: OverviewSampler;
  readonly logger: LoggerLike;
  /** The scope an API key needs. */
  readonly scope: string;
  /** Whether an unsafe request comes from our own site (Fetch Metadata, else Origin): cross-site ones are refused. */
  readonly sameOrigin: (headers: BuiltinContext['request']['headers']) => boolean;
  /** The console's sessions, when the console is served: its cookie authenticates like an admin key. */
  readonly console?: AdminSessionAuth | undefined;
}

/** The console session as the admin API sees it. */
export interface AdminSessionAuth {
  /** Whether the request carries a console session cookie. */
  hasSession(context: BuiltinContext): boolean;
  /** The key id behind the request's session; the CSRF token checked for unsafe methods. Throws the problem otherwise. */
  authenticate(context: BuiltinContext): Promise<{ readonly keyId: string }>;
}

/** The caller of an admin endpoint, once authenticated. */
export interface AdminCaller {
  readonly keyId: string;
  readonly requestId: string;
  readonly clientIp: string;
  /** Set when the caller is a console session (the key id is then the one the session signed in with). */
  readonly via?: 'console' | undefined;
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const parseJson = createJsonParser({ maxBytes: MAX_ADMIN_BODY_BYTES, maxDepth: 16, maxKeys: 1000 });

/**
 * Authenticates an admin request: an API key (`x-api-key` or `Authorization: Bearer`) with the admin
 * scope, or — without a key — the console's session cookie, whose unsafe requests need the session's
 * CSRF token (`x-csrf-token`). A state-changing request from another site (Fetch Metadata, else
 * Origin) is refused with 403 CSRF_REJECTED whatever it carries, before anything else is looked at.
 * A valid key without the scope is 403 and leaves a `denied` audit entry (best effort: the refusal
 * does not depend on the database).
 */
export async function authenticateAdmin(services: AdminServices, context: BuiltinContext, action: string): Promise<AdminCaller> {
  const { request, peer } = context;
  if (UNSAFE_METHODS.has(request.method) && !services.sameOrigin(request.headers)) throw new ApiError('CSRF_REJECTED');
  const header = request.headers['x-api-key'];
  const bearer = BEARER.exec(request.headers.authorization ?? '')?.[1];
  const consoleSessions = services.console;
  if (header === undefined && bearer === undefined && consoleSessions?.hasSession(context) === true) {
    const session = await consoleSessions.authenticate(context).catch((error: unknown) => {
      throw dependencyUnavailable(error);
    });
    return { keyId: session.keyId, requestId: request.id, clientIp: peer.clientIp, via: 'console' };
  }
  let result;
  try {
    result = await services.apiKeys.verify(typeof header === 'string' ? header : bearer);
  } catch (error) {
    throw dependencyUnavailable(error);
  }
  if (!result.ok) {
    const code = result.reason === 'missing' ? 'API_KEY_MISSING' : result.reason === 'malformed' ? 'API_KEY_MALFORMED' : result.reason === 'expired' ? 'API_KEY_EXPIRED' : result.reason === 'revoked' ? 'API_KEY_REVOKED' : 'API_KEY_INVALID';
    throw new ApiError(code);
  }
  const caller = { keyId: result.key.id, requestId: request.id, clientIp: peer.clientIp };
  if (!hasScopes(result.key.scopes, [services.scope])) {
    services.audit
      .append(entry(caller, action, { outcome: 'denied', input: { path: request.url.split('?')[0] } }))
      .catch((error: unknown) => services.logger.warn({ err: error }, 'audit append of a denied admin request failed'));
    throw new ApiError('INSUFFICIENT_SCOPE', { detail: `The admin API needs the scope ${services.scope}.`, extensions: { requiredScopes: [services.scope] } });
  }
  return caller;
}

/** An audit entry of an admin action by `caller`. */
export function entry(caller: AdminCaller, action: string, details: { readonly outcome?: AuditEntryInput['outcome']; readonly target?: string; readonly input?: unknown } = {}): AuditEntryInput {
  return {
    actor: caller.keyId,
    action,
    target: details.target ?? null,
    requestId: caller.requestId,
    clientIp: caller.clientIp,
    outcome: details.outcome ?? 'success',
    input: caller.via === undefined ? (details.input ?? null) : viaConsole(details.input),
  };
}

/** The input of an entry made through the console, marked as such (when it is an object or absent). */
function viaConsole(input: unknown): unknown {
  if (input === undefined || input === null) return { via: 'console' };
  if (typeof input === 'object' && !Array.isArray(input)) return { ...input, via: 'console' };
  return input;
}

/** Reads and safely parses a JSON body (64 KiB, depth 16, no prototype keys); `{}` when there is none. */
export async function jsonBody(context: BuiltinContext): Promise<unknown> {
  const raw = context.request.raw;
  const length = raw.headers['content-length'];
  if ((length === undefined || length === '0') && raw.headers['transfer-encoding'] === undefined) return {};
  const type = (raw.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new ApiError('UNSUPPORTED_MEDIA_TYPE', { detail: 'Admin requests take application/json.' });
  const result = parseJson(await readBody(raw, MAX_ADMIN_BODY_BYTES));
  if (!result.ok) throw new ApiError(result.code, { detail: result.detail });
  return result.value;
}

/** The query string of an admin request, parsed safely. */
export function queryOf(context: BuiltinContext): Readonly<Record<string, string | readonly string[]>> {
  const url = context.request.url;
  const mark = url.indexOf('?');
  return mark === -1 ? {} : parseQueryStrict(url.slice(mark + 1));
}

/**
 * Errors of the database (or Redis) behind an admin action: 503 DEPENDENCY_UNAVAILABLE with
 * `Retry-After`; the cause goes to the log only.
 */
export function dependencyUnavailable(cause: unknown): ApiError {
  if (cause instanceof ApiError) return cause;
  return new ApiError('DEPENDENCY_UNAVAILABLE', { detail: 'The database is unavailable; nothing was changed. Retry shortly.', headers: { 'retry-after': '5' }, cause });
}

/** Validates an admin request body: 422 VALIDATION_FAILED listing the issues (paths and messages, never values). */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw errors.validationFailed(result.error.issues.slice(0, 20).map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message })));
  return result.data;
}
