/**
 * The public shapes of the session store: what a session is, what the request tells the store, and
 * every outcome as a value.
 */

/** A JSON value as stored in a session (no `undefined`, functions, dates or non-finite numbers). */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** The application's data in a session: a small JSON object (bounded by `maxDataBytes`). */
export type SessionData = { readonly [key: string]: JsonValue };

/** Who a session belongs to. Sessions, lockouts and revocation are all scoped to tenant + user. */
export interface SessionSubject {
  /** The tenant (use a constant such as `'default'` in a single-tenant application), 1–256 characters. */
  readonly tenant: string;
  /** The user's stable id (never an e-mail address that can change), 1–256 characters. */
  readonly userId: string;
}

/** Header values as Node gives them (`IncomingHttpHeaders` fits). */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

/** What the store needs to know about the request a session is created or validated on. */
export interface SessionRequestContext {
  /**
   * The client's IP address, resolved behind trusted proxies only (`createClientIpResolver` from
   * `bulwark/http`). `undefined` when unknown: it then only matches a session bound to an unknown address.
   */
  readonly ip: string | undefined;
  /** The request headers; only the fingerprint headers are read. */
  readonly headers: HeaderBag;
}

/** A session as the application sees it. Holds no secret: the cookie value is never part of it. */
export interface Session {
  /**
   * A public handle for this session id: the SHA-256 of the cookie value (base64url). Safe to log
   * and show (an admin's list of sessions, `revokeById`); useless for taking the session over.
   * Changes when the session id is regenerated or renewed.
   */
  readonly id: string;
  readonly tenant: string;
  readonly userId: string;
  readonly data: SessionData;
  /** Increases with every write of the data and every rotation; the compare-and-set token of `update`. */
  readonly version: number;
  /** When the user logged in (ms since the epoch); kept across rotations. */
  readonly createdAt: number;
  /** When the current id was issued (login, regeneration or renewal). */
  readonly issuedAt: number;
  /** When the session ends without activity (sliding: every successful validation moves it). */
  readonly idleExpiresAt: number;
  /** When the session ends whatever happens. */
  readonly absoluteExpiresAt: number;
  /**
   * The id this one replaced by a renewal, while the old id is still honoured (`renewalGraceMs`),
   * so a CSRF token bound to it stays valid for requests already in flight. Absent otherwise.
   */
  readonly previousId?: string | undefined;
}

/** Why a session did not validate. Applications must answer every reason the same way. */
export type SessionInvalidReason = 'not_found' | 'expired' | 'ip_mismatch' | 'fingerprint_mismatch' | 'locked';

/** The outcome of {@link SecureSessionStore.validate}. */
export type SessionValidation =
  | {
      readonly valid: true;
      readonly session: Session;
      /** The id is older than `renewalIntervalMs`: call `renew()` and send the new cookie. */
      readonly renewalDue: boolean;
    }
  | { readonly valid: false; readonly reason: SessionInvalidReason };

/** The outcome of {@link SecureSessionStore.create}. */
export type SessionCreateResult =
  | { readonly ok: true; readonly token: string; readonly session: Session }
  | { readonly ok: false; readonly reason: 'locked' };

/** The outcome of a data write. `version_conflict`: another request wrote first; read again and retry. */
export type SessionUpdateResult =
  | { readonly ok: true; readonly session: Session }
  | { readonly ok: false; readonly reason: 'not_found' | 'expired' | 'version_conflict' };

/** The outcome of {@link SecureSessionStore.regenerate} and {@link SecureSessionStore.renew}. */
export type SessionRotateResult =
  | { readonly ok: true; readonly token: string; readonly session: Session }
  | { readonly ok: false; readonly reason: 'not_found' | 'expired' | 'version_conflict' | 'locked' };

/** The lockout state of a tenant + user. */
export interface LockoutStatus {
  readonly locked: boolean;
  /** When the lock ends (ms since the epoch), while locked. */
  readonly lockedUntil: number | undefined;
  /** Failures counted in the current window (0 while locked: the lock consumed them). */
  readonly failures: number;
}

/** Options of {@link SecureSessionStore.regenerate}. */
export interface RegenerateOptions {
  /** The request the regeneration happens on: the new id is bound to its IP and fingerprint. */
  readonly context: SessionRequestContext;
  /** New data for the session (e.g. the elevated role). @default the current data */
  readonly data?: SessionData | undefined;
  /** Fail with `version_conflict` unless the session is at this version. @default no check */
  readonly expectedVersion?: number | undefined;
  /** Give the session a new absolute lifetime (only after the user re-authenticated). @default false */
  readonly renewAbsoluteTimeout?: boolean | undefined;
}

/**
 * Server-side sessions: ids of 256 bits stored only hashed, idle and absolute timeouts, IP and
 * device binding, lockout after repeated failures, versioned writes, instant revocation.
 * Implemented over Redis (`createRedisSessionStore`) and in memory (`createMemorySessionStore`),
 * which pass the same contract tests.
 *
 * Every method that takes a token accepts any string, hostile ones included, and answers with a
 * value; methods reject only when the backing store fails (Redis down or too slow).
 */
export interface SecureSessionStore {
  /** Creates a session (a login). Refused while the user is locked out. */
  create(input: SessionSubject & { readonly data?: SessionData | undefined; readonly context: SessionRequestContext }): Promise<SessionCreateResult>;
  /**
   * Checks the cookie value against its session, the request's IP and fingerprint and the user's
   * lockout, and on success extends the idle timeout — in one atomic operation. A session found
   * but presented from another IP or device counts as a failure towards the user's lockout.
   */
  validate(token: string | undefined, context: SessionRequestContext): Promise<SessionValidation>;
  /** Replaces the data if the session is still at `expectedVersion` (compare-and-set); never recreates a deleted session. */
  update(token: string, input: { readonly data: SessionData; readonly expectedVersion: number }): Promise<SessionUpdateResult>;
  /**
   * Reads, applies `change` and writes with compare-and-set, retrying on `version_conflict`
   * (`attempts` in total), so concurrent requests never lose each other's changes.
   * @param attempts - 1–100. @default 5
   */
  modify(token: string, change: (data: SessionData) => SessionData, attempts?: number): Promise<SessionUpdateResult>;
  /**
   * Issues a new id for the session and deletes the old one in the same atomic operation (call it
   * on every privilege change: login, role change, re-authentication). The user index is updated
   * in the same operation. Returns the new cookie value.
   */
  regenerate(token: string, options: RegenerateOptions): Promise<SessionRotateResult>;
  /**
   * The periodic renewal of the id (`renewalIntervalMs`): like {@link regenerate}, but the old id
   * keeps resolving to the new session for `renewalGraceMs`, so requests already in flight with the
   * old cookie are not logged out.
   */
  renew(token: string, context: SessionRequestContext): Promise<SessionRotateResult>;
  /** Deletes the session behind a cookie value (logout). Returns whether one existed. */
  revoke(token: string): Promise<boolean>;
  /** Deletes one session of a user by its public {@link Session.id}. */
  revokeById(subject: SessionSubject, sessionId: string): Promise<boolean>;
  /** Deletes every session of a user (except the one behind `exceptToken`). Returns how many. */
  revokeAll(subject: SessionSubject, options?: { readonly exceptToken?: string | undefined }): Promise<number>;
  /** The user's live sessions, oldest first. */
  list(subject: SessionSubject): Promise<readonly Session[]>;
  /** Deletes everything stored about a user: every session, the index and the lockout state. */
  deleteUser(subject: SessionSubject): Promise<number>;
  /** Counts a failed login (or any failed attempt) towards the user's lockout, atomically. */
  recordFailure(subject: SessionSubject): Promise<LockoutStatus>;
  /** The user's lockout state. */
  lockoutStatus(subject: SessionSubject): Promise<LockoutStatus>;
  /** Forgets the counted failures (after a successful login); an active lock stays. */
  resetFailures(subject: SessionSubject): Promise<void>;
  /** Ends an active lock and forgets failures and back-off (an administrator's action). */
  unlock(subject: SessionSubject): Promise<void>;
  /** The timeouts in force, for cookie lifetimes. */
  readonly timeouts: { readonly idleTimeoutMs: number; readonly absoluteTimeoutMs: number; readonly renewalIntervalMs: number | undefined };
}
