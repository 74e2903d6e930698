/**
 * The shapes of the gateway's answers as JSON (dates are ISO strings), read from
 * apps/gateway/src/admin/*.ts and the bulwark types they return. Fields the console can do without
 * are optional, so an older or newer gateway degrades to less detail rather than a broken page.
 */

/** `POST|GET <console.path>/api/session`. */
export interface ConsoleSession {
  readonly keyId: string;
  readonly csrfToken: string;
  readonly idleExpiresAt: string;
  readonly absoluteExpiresAt: string;
  /** `console.idleTimeout`: a session without a request for this long ends. */
  readonly idleTimeoutMs?: number;
  /** `admin.prefix`: where the admin API is (`/admin` when absent). */
  readonly adminPrefix?: string;
}

export interface KeyRateLimit {
  readonly limit: number;
  readonly windowMs: number;
}

/** bulwark/auth `ApiKeyRecord`. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly tenant: string;
  readonly env: string;
  readonly scopes: readonly string[];
  readonly displayPrefix: string;
  readonly limits: readonly KeyRateLimit[];
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
  readonly rotatedFrom: string | null;
  readonly rotatedTo: string | null;
  readonly graceUntil: string | null;
  readonly signingAlgorithm: 'hmac-sha256' | 'ed25519' | null;
}

export interface ApiKeyPage {
  readonly records: readonly ApiKeyRecord[];
  readonly nextCursor?: string | undefined;
}

/** `POST /admin/keys` (201) and `POST /admin/keys/:id/rotate`: the key is in this answer only. */
export interface CreatedApiKey {
  readonly key: string;
  readonly signingSecret?: string;
  readonly record: ApiKeyRecord;
  /** Rotation only: the old key, with `rotatedTo` and `graceUntil`. */
  readonly previous?: ApiKeyRecord;
}

export interface CreateApiKeyInput {
  readonly name: string;
  readonly tenant: string;
  readonly scopes?: readonly string[];
  readonly env?: string;
  readonly limits?: readonly KeyRateLimit[];
  readonly expiresAt?: string;
  readonly signing?: { readonly algorithm: 'hmac-sha256' } | { readonly algorithm: 'ed25519'; readonly publicKey: string };
}

export type CircuitState = 'closed' | 'half-open' | 'open';

export interface BreakerTransition {
  readonly at: string;
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly reason?: string;
}

/** bulwark/resilience `BreakerSnapshot`, plus recent transitions when the gateway keeps them. */
export interface BreakerSnapshot {
  readonly name: string;
  readonly service?: string;
  readonly state: CircuitState;
  readonly mode?: string;
  readonly failures?: number;
  readonly retryAfterMs?: number;
  readonly window?: { readonly calls: number; readonly failures: number; readonly slowCalls: number; readonly failureRate: number; readonly slowCallRate: number };
  readonly transitions?: readonly BreakerTransition[];
}

export interface BreakerList {
  readonly breakers: Readonly<Record<string, BreakerSnapshot>>;
}

/** One rate limit of `GET /admin/limits`; the counters are there when the gateway reports them. */
export interface LimitInfo {
  readonly name: string;
  readonly policy?: { readonly name?: string; readonly limit: number; readonly windowSeconds: number };
  /**
   * Decisions since start-up by result (`ok`, `limited`, `shadow`, `fallback_allowed`,
   * `store_unavailable_rejected`, `circuit_open_allowed`…; only results seen).
   */
  readonly decisions?: Readonly<Record<string, number>>;
  /** Decisions the local fallback took while the shared store was unavailable. */
  readonly fallback?: number;
  /** Requests a shadow-mode limit would have rejected but let through. */
  readonly shadow?: number;
}

export interface LimitList {
  readonly limits: readonly LimitInfo[];
}

/** `GET /admin/limits/:name/keys/:key`. */
export interface LimitKeyState {
  readonly limit: string;
  readonly key: string;
  readonly remaining: number;
  readonly resetMs: number;
  readonly reason: string;
}

export type AuditOutcome = 'success' | 'failure' | 'denied';

export interface AuditEntry {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string | null;
  readonly requestId: string | null;
  readonly clientIp: string | null;
  readonly outcome: AuditOutcome;
  readonly input: unknown;
}

export interface AuditPage {
  readonly entries: readonly AuditEntry[];
  readonly nextCursor?: string | undefined;
}

export interface AuditQuery {
  readonly action?: string;
  readonly actor?: string;
  readonly target?: string;
  readonly outcome?: AuditOutcome | '';
  readonly since?: string;
  readonly until?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

export type AuditVerifyResult =
  | { readonly ok: true; readonly count: number }
  | { readonly ok: false; readonly brokenAt: number; readonly reason: 'hash_mismatch' | 'missing_entry' | 'prev_mismatch' | string };

/** `GET /admin/overview`: declared once, beside the gateway's sampler that produces it. */
export type { Overview, OverviewSample, OverviewTotals } from '../../../gateway/src/admin/overview-wire.js';
