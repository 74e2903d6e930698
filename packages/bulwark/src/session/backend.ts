/**
 * The storage seam under the session store: a handful of atomic operations on hashed ids, with one
 * Redis implementation (Lua scripts) and one in memory. The store above does everything else (ids,
 * hashing, data, metrics) once, so the two cannot drift; the contract tests hold them to the same
 * behaviour.
 *
 * Vocabulary: a user's keys share a `tag` (the user tag of session-token.ts); `id` is a session's
 * public id (the hash of its cookie value); `lockId` names the user's lockout record.
 * Every check of a lock looks at `previousLockId` too.
 *
 * Rotation leaves, when it has a grace period, a pointer under the old id to the new one; every
 * operation follows such pointers (at most {@link MAX_POINTER_HOPS}), so a request already in
 * flight with the old cookie keeps working until the grace ends.
 */

export const MAX_POINTER_HOPS = 4;

/**
 * How far a backstop TTL reaches past the expiry the store decides on. Expiry is judged against the
 * store's clock (injectable, so tests can move it); Redis TTLs only make sure abandoned keys go away.
 */
export const TTL_SLACK_MS = 60_000;

/** A session record as stored. Timestamps in ms since the epoch; `data` is JSON text. */
export interface StoredSession {
  readonly id: string;
  readonly version: number;
  readonly tenant: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly issuedAt: number;
  readonly idleExpiresAt: number;
  readonly absoluteExpiresAt: number;
  readonly data: string;
  /** The id this one replaced by a renewal, and until when that id is honoured (0 when none). */
  readonly previousId: string;
  readonly previousUntil: number;
}

/**
 * What a session is bound to. A mode names how the value was computed; a record whose mode differs
 * from the store's current one (configuration changed) is re-bound instead of refused.
 */
export interface Binding {
  /** `off` or the IP binding mode. */
  readonly ipMode: string;
  /** Keyed hashes of the client network: current key, then the previous key during a rotation. */
  readonly ipHashes: readonly string[];
  /** `off` or an identifier of the fingerprint header list. */
  readonly fingerprintMode: string;
  readonly fingerprint: string;
}

export interface LockPolicy {
  readonly threshold: number;
  readonly windowMs: number;
  readonly lockMs: number;
  readonly backoffFactor: number;
  readonly maxLockMs: number;
  readonly memoryMs: number;
}

export interface UserRef {
  readonly tag: string;
  /** The lockout record failures are counted in. */
  readonly lockId: string;
  /** The lockout record under the previous key (during a key rotation), honoured but never written; `lockId` otherwise. */
  readonly previousLockId: string;
}

export interface SessionRef extends UserRef {
  readonly id: string;
}

export type Missing = { readonly kind: 'not_found' } | { readonly kind: 'expired' };

export type ValidateOutcome =
  | { readonly kind: 'valid'; readonly record: StoredSession; readonly viaPointer: boolean }
  | Missing
  | { readonly kind: 'locked' }
  | { readonly kind: 'ip_mismatch' | 'fingerprint_mismatch'; readonly lockStarted: boolean };

export type ReadOutcome = { readonly kind: 'found'; readonly record: StoredSession } | Missing;

export type UpdateOutcome = { readonly kind: 'ok'; readonly record: StoredSession } | Missing | { readonly kind: 'version_conflict' };

export type RotateOutcome = UpdateOutcome | { readonly kind: 'locked' };

export interface LockOutcome {
  readonly locked: boolean;
  readonly lockedUntil: number;
  readonly failures: number;
  /** This failure started the lock. */
  readonly lockStarted: boolean;
}

export interface CreateInput {
  readonly now: number;
  readonly idleExpiresAt: number;
  readonly absoluteExpiresAt: number;
  readonly tenant: string;
  readonly userId: string;
  readonly data: string;
  readonly binding: Binding;
  readonly maxPerUser: number;
}

export interface ValidateInput {
  readonly now: number;
  readonly idleMs: number;
  /** Skip the idle touch when it would move the deadline by less than this (0: always touch). */
  readonly touchMs: number;
  readonly binding: Binding;
  /** Count an IP or fingerprint mismatch towards the lockout. */
  readonly countMismatch: boolean;
  readonly policy: LockPolicy;
}

export interface RotateInput {
  readonly now: number;
  readonly newId: string;
  readonly idleMs: number;
  readonly binding: Binding;
  /** `undefined`: keep the data. */
  readonly data: string | undefined;
  readonly expectedVersion: number | undefined;
  /** A new absolute lifetime from now, or `undefined` to keep the session's. */
  readonly absoluteMs: number | undefined;
  /** 0: the old id dies in this operation (regenerate); > 0: it points to the new id for this long (renew). */
  readonly graceMs: number;
}

export interface SessionBackend {
  create(ref: SessionRef, input: CreateInput): Promise<'ok' | 'locked'>;
  validate(ref: SessionRef, input: ValidateInput): Promise<ValidateOutcome>;
  read(ref: SessionRef, now: number): Promise<ReadOutcome>;
  update(ref: SessionRef, input: { readonly now: number; readonly idleMs: number; readonly expectedVersion: number; readonly data: string }): Promise<UpdateOutcome>;
  rotate(ref: SessionRef, input: RotateInput): Promise<RotateOutcome>;
  revoke(ref: SessionRef): Promise<boolean>;
  revokeAll(user: UserRef, exceptId: string | undefined): Promise<number>;
  list(user: UserRef, now: number): Promise<readonly StoredSession[]>;
  deleteUser(user: UserRef): Promise<number>;
  lockFail(user: UserRef, now: number, policy: LockPolicy): Promise<LockOutcome>;
  lockStatus(user: UserRef, now: number, policy: LockPolicy): Promise<LockOutcome>;
  lockReset(user: UserRef, unlock: boolean): Promise<void>;
}

/** The duration of the next lock: `lockMs × factor^strikes`, capped, in whole ms. */
export function lockDurationMs(policy: LockPolicy, strikes: number): number {
  return Math.floor(Math.min(policy.lockMs * policy.backoffFactor ** strikes, policy.maxLockMs));
}
