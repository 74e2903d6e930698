import { query, request, type Result } from './http.js';
import { adminPrefixOf, DEFAULT_ADMIN_PREFIX, sessionPathOf } from './paths.js';
import type {
  ApiKeyPage,
  AuditPage,
  AuditQuery,
  AuditVerifyResult,
  BreakerList,
  BreakerSnapshot,
  ConsoleSession,
  CreateApiKeyInput,
  CreatedApiKey,
  LimitKeyState,
  LimitList,
  Overview,
} from './types.js';

/**
 * Every call the console makes. Changes go through the admin API, so they are audited like any
 * other admin call; the console adds nothing of its own but the session endpoints.
 */

let adminPrefix = DEFAULT_ADMIN_PREFIX;

/**
 * The admin API's prefix (the gateway's `admin.prefix`), from the session answer: set when a session
 * starts or is found, so one build works whatever the gateway's paths.
 */
export function setAdminPrefix(value: unknown): void {
  adminPrefix = adminPrefixOf(value);
}

/** The console's session API, below the page's own address (`<console.path>/api/session`). */
const session = (): string => sessionPathOf(window.location.pathname);
const at = (path: string): string => `${adminPrefix}${path}`;

const segment = encodeURIComponent;

export const consoleSession = {
  /** Exchanges an admin API key for a session (the key itself is not kept). */
  signIn: (key: string): Promise<Result<ConsoleSession>> => request('POST', session(), { body: { key }, own401: true }),
  current: (signal?: AbortSignal): Promise<Result<ConsoleSession>> => request('GET', session(), { own401: true, ...(signal === undefined ? {} : { signal }) }),
  signOut: (): Promise<Result<void>> => request('DELETE', session(), { own401: true }),
};

export const admin = {
  overview: (signal?: AbortSignal): Promise<Result<Overview>> => request('GET', at('/overview'), signal === undefined ? {} : { signal }),

  keys: (filters: { readonly tenant?: string; readonly includeRevoked?: boolean; readonly cursor?: string; readonly limit?: number }): Promise<Result<ApiKeyPage>> =>
    request('GET', at(`/keys${query({ tenant: filters.tenant, includeRevoked: filters.includeRevoked === true ? 'true' : undefined, cursor: filters.cursor, limit: filters.limit })}`)),
  createKey: (input: CreateApiKeyInput): Promise<Result<CreatedApiKey>> => request('POST', at('/keys'), { body: input }),
  rotateKey: (id: string, graceMs: number): Promise<Result<CreatedApiKey>> => request('POST', at(`/keys/${segment(id)}/rotate`), { body: { graceMs } }),
  revokeKey: (id: string): Promise<Result<{ readonly revokedIds: readonly string[] }>> => request('POST', at(`/keys/${segment(id)}/revoke`)),

  breakers: (): Promise<Result<BreakerList>> => request('GET', at('/breakers')),
  setBreaker: (name: string, action: 'open' | 'close'): Promise<Result<{ readonly breaker: BreakerSnapshot }>> => request('POST', at(`/breakers/${segment(name)}/${action}`)),

  limits: (): Promise<Result<LimitList>> => request('GET', at('/limits')),
  inspectLimitKey: (name: string, key: string): Promise<Result<LimitKeyState>> => request('GET', at(`/limits/${segment(name)}/keys/${segment(key)}`)),
  resetLimitKey: (name: string, key: string): Promise<Result<{ readonly reset: boolean }>> => request('DELETE', at(`/limits/${segment(name)}/keys/${segment(key)}`)),

  revokeSessions: (tenant: string, userId: string): Promise<Result<{ readonly revoked: number }>> => request('POST', at('/sessions/revoke'), { body: { tenant, userId } }),

  audit: (filters: AuditQuery): Promise<Result<AuditPage>> => request('GET', at(`/audit${query({ ...filters })}`)),
  verifyAudit: (): Promise<Result<AuditVerifyResult>> => request('POST', at('/audit/verify')),
};
