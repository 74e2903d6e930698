/**
 * The options every session store shares, validated once: each wrong value is a TypeError naming
 * the option and the allowed range.
 */
import type { Registry } from 'prom-client';
import type { Keyring } from '../crypto/keyring.js';
import type { LoggerLike } from '../observability/logger-like.js';
import { silentLogger } from '../observability/logger-like.js';
import { defaultMetricsRegistry } from '../observability/metrics-registry.js';
import { DEFAULT_FINGERPRINT_HEADERS, checkFingerprintHeaders } from './fingerprint.js';
import { resolveIpBinding, type IpBinding, type ResolvedIpBinding } from './ip-binding.js';
import { describe, integerIn } from './validate.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const SESSION_DEFAULTS = Object.freeze({
  idleTimeoutMs: 15 * MINUTE,
  absoluteTimeoutMs: 8 * HOUR,
  renewalGraceMs: 30 * SECOND,
  maxSessionsPerUser: 100,
  maxDataBytes: 4096,
  lockoutThreshold: 10,
  lockoutWindowMs: 15 * MINUTE,
  lockoutMs: 15 * MINUTE,
  backoffFactor: 2,
  backoffMaxLockMs: DAY,
  backoffMemoryMs: DAY,
});

/** Exponential back-off of repeated lockouts: each lock within `memoryMs` of the last lasts `factor` times longer. */
export interface LockoutBackoffOptions {
  /** Multiplier per repeated lock, 1–10. @default 2 */
  readonly factor?: number;
  /** The longest lock, ≥ `lockMs`, ≤ 30 days. @default 86400000 (24 h) */
  readonly maxLockMs?: number;
  /** How long a lock is remembered for the back-off, 1 min – 30 days. @default 86400000 (24 h) */
  readonly memoryMs?: number;
}

export interface LockoutOptions {
  /** Failures within `windowMs` that lock the account, 1–1000. @default 10 */
  readonly threshold?: number;
  /** The window failures are counted in, from the first failure, 1 s – 30 days. @default 900000 (15 min) */
  readonly windowMs?: number;
  /** How long a lock lasts, 1 s – 30 days. @default 900000 (15 min) */
  readonly lockMs?: number;
  /** Lengthen repeated locks exponentially. @default false */
  readonly backoff?: LockoutBackoffOptions | false;
  /**
   * Whether a session found but presented from another IP or device counts as a failure. (Unknown
   * and expired ids never count: stale cookies of the user's own browser would lock them out.)
   * @default true
   */
  readonly countMismatches?: boolean;
}

/** Options shared by the Redis and the memory store. */
export interface SessionStoreOptions {
  /**
   * The keyring (`createKeyring` from `bulwark/crypto`): the `session` subkey keys the user tags and
   * bindings, the `lockout-key` subkey the lockout keys. With a previous master key, sessions and
   * lockouts made under it are still found.
   */
  readonly keyring: Keyring;
  /** A session without activity for this long ends, 1 s – 30 days. @default 900000 (15 min) */
  readonly idleTimeoutMs?: number;
  /** A session ends this long after login whatever happens, ≥ `idleTimeoutMs`, ≤ 400 days. @default 28800000 (8 h) */
  readonly absoluteTimeoutMs?: number;
  /** Renew the id when it is this old (OWASP's renewal timeout), 1 s – `absoluteTimeoutMs`. @default undefined (off) */
  readonly renewalIntervalMs?: number | undefined;
  /**
   * The idle deadline is written at most this often per session (a burst of requests writes it once);
   * an idle session may so end up to this much before `idleTimeoutMs` has passed since its last
   * request. 0 writes on every validation. 0 – `idleTimeoutMs / 10`.
   * @default min(1000, idleTimeoutMs / 10)
   */
  readonly touchIntervalMs?: number;
  /** How long a renewed id keeps working for requests already in flight, 0 – 5 min. @default 30000 */
  readonly renewalGraceMs?: number;
  /** Bind sessions to the client address: `'off'`, `'exact'`, or a network prefix for mobile clients. @default 'exact' */
  readonly ipBinding?: IpBinding;
  /**
   * Bind sessions to a fingerprint of the device's headers (defence in depth, not identity), or
   * `false`. Browsers send different `Accept` values for page loads and `fetch()`: an application
   * validating sessions on both should leave `accept` out (see docs/session.md).
   * @default { headers: ['user-agent', 'accept', 'accept-language', 'accept-encoding'] }
   */
  readonly fingerprint?: { readonly headers: readonly string[] } | false;
  /** Account lockout after repeated failures. */
  readonly lockout?: LockoutOptions;
  /** Sessions per user; a new login beyond it ends the oldest, 1–10000. @default 100 */
  readonly maxSessionsPerUser?: number;
  /** The largest session data, as JSON bytes, 2–65536. @default 4096 */
  readonly maxDataBytes?: number;
  /** The clock (ms since the epoch). Every expiry is decided against it, in Redis too. @default Date.now */
  readonly now?: () => number;
  /** Registry for `session_validations_total` and `session_lockouts_total`. @default defaultMetricsRegistry() */
  readonly registry?: Registry;
  /** Told about corrupt records and lockouts. @default silent */
  readonly logger?: LoggerLike;
}

export interface ResolvedLockout {
  readonly threshold: number;
  readonly windowMs: number;
  readonly lockMs: number;
  /** 1 without back-off. */
  readonly backoffFactor: number;
  readonly maxLockMs: number;
  readonly memoryMs: number;
  readonly countMismatches: boolean;
}

export interface ResolvedSessionOptions {
  readonly keyring: Keyring;
  readonly idleTimeoutMs: number;
  readonly absoluteTimeoutMs: number;
  readonly touchIntervalMs: number;
  readonly renewalIntervalMs: number | undefined;
  readonly renewalGraceMs: number;
  readonly ipBinding: ResolvedIpBinding;
  readonly fingerprintHeaders: readonly string[] | undefined;
  readonly lockout: ResolvedLockout;
  readonly maxSessionsPerUser: number;
  readonly maxDataBytes: number;
  readonly now: () => number;
  readonly registry: Registry;
  readonly logger: LoggerLike;
}

export function resolveSessionOptions(factory: string, options: SessionStoreOptions): ResolvedSessionOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${factory}: options must be an object`);
  const keyring = options.keyring as Partial<Keyring> | undefined;
  if (typeof keyring !== 'object' || keyring === null || typeof keyring.subkey !== 'function' || typeof keyring.previousSubkey !== 'function') {
    throw new TypeError(`${factory}: keyring must be a Keyring (createKeyring from bulwark/crypto)`);
  }
  const idleTimeoutMs = integerIn(factory, 'idleTimeoutMs', options.idleTimeoutMs, SESSION_DEFAULTS.idleTimeoutMs, SECOND, 30 * DAY);
  const absoluteTimeoutMs = integerIn(factory, 'absoluteTimeoutMs', options.absoluteTimeoutMs, Math.max(SESSION_DEFAULTS.absoluteTimeoutMs, idleTimeoutMs), idleTimeoutMs, 400 * DAY);
  const renewalIntervalMs = options.renewalIntervalMs === undefined ? undefined : integerIn(factory, 'renewalIntervalMs', options.renewalIntervalMs, 0, SECOND, absoluteTimeoutMs);
  const renewalGraceMs = integerIn(factory, 'renewalGraceMs', options.renewalGraceMs, SESSION_DEFAULTS.renewalGraceMs, 0, 5 * MINUTE);
  const fingerprint = options.fingerprint;
  let fingerprintHeaders: readonly string[] | undefined;
  if (fingerprint === false) fingerprintHeaders = undefined;
  else if (fingerprint === undefined) fingerprintHeaders = DEFAULT_FINGERPRINT_HEADERS;
  else if (typeof fingerprint === 'object' && fingerprint !== null) fingerprintHeaders = checkFingerprintHeaders(`${factory}: fingerprint.headers`, fingerprint.headers);
  else throw new TypeError(`${factory}: fingerprint must be false or { headers: [...] }, got ${describe(fingerprint)}`);
  const now = options.now;
  if (now !== undefined && typeof now !== 'function') throw new TypeError(`${factory}: now must be a function returning ms since the epoch`);
  const logger = options.logger ?? silentLogger;
  if (typeof logger.warn !== 'function' || typeof logger.error !== 'function') throw new TypeError(`${factory}: logger must have warn() and error() (pino fits)`);
  return {
    keyring: keyring as Keyring,
    idleTimeoutMs,
    absoluteTimeoutMs,
    touchIntervalMs: integerIn(factory, 'touchIntervalMs', options.touchIntervalMs, Math.min(1000, Math.floor(idleTimeoutMs / 10)), 0, Math.floor(idleTimeoutMs / 10)),
    renewalIntervalMs,
    renewalGraceMs,
    ipBinding: resolveIpBinding(factory, options.ipBinding),
    fingerprintHeaders,
    lockout: resolveLockout(factory, options.lockout),
    maxSessionsPerUser: integerIn(factory, 'maxSessionsPerUser', options.maxSessionsPerUser, SESSION_DEFAULTS.maxSessionsPerUser, 1, 10_000),
    maxDataBytes: integerIn(factory, 'maxDataBytes', options.maxDataBytes, SESSION_DEFAULTS.maxDataBytes, 2, 65_536),
    // Read at call time, so fake clocks installed after creation are honoured.
    now: now ?? (() => Date.now()),
    registry: options.registry ?? defaultMetricsRegistry(),
    logger,
  };
}

function resolveLockout(factory: string, options: LockoutOptions | undefined): ResolvedLockout {
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new TypeError(`${factory}: lockout must be an object`);
  const lockout = options ?? {};
  const lockMs = integerIn(factory, 'lockout.lockMs', lockout.lockMs, SESSION_DEFAULTS.lockoutMs, SECOND, 30 * DAY);
  const countMismatches = lockout.countMismatches ?? true;
  if (typeof countMismatches !== 'boolean') throw new TypeError(`${factory}: lockout.countMismatches must be a boolean`);
  const base = {
    threshold: integerIn(factory, 'lockout.threshold', lockout.threshold, SESSION_DEFAULTS.lockoutThreshold, 1, 1000),
    windowMs: integerIn(factory, 'lockout.windowMs', lockout.windowMs, SESSION_DEFAULTS.lockoutWindowMs, SECOND, 30 * DAY),
    lockMs,
    countMismatches,
  };
  const backoff = lockout.backoff ?? false;
  if (backoff === false) return { ...base, backoffFactor: 1, maxLockMs: lockMs, memoryMs: lockMs };
  if (typeof backoff !== 'object' || backoff === null) throw new TypeError(`${factory}: lockout.backoff must be false or an object`);
  const factor = backoff.factor ?? SESSION_DEFAULTS.backoffFactor;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1 || factor > 10) {
    throw new TypeError(`${factory}: lockout.backoff.factor must be a number between 1 and 10, got ${describe(factor)}`);
  }
  return {
    ...base,
    backoffFactor: factor,
    maxLockMs: integerIn(factory, 'lockout.backoff.maxLockMs', backoff.maxLockMs, Math.max(SESSION_DEFAULTS.backoffMaxLockMs, lockMs), lockMs, 30 * DAY),
    memoryMs: integerIn(factory, 'lockout.backoff.memoryMs', backoff.memoryMs, SESSION_DEFAULTS.backoffMemoryMs, MINUTE, 30 * DAY),
  };
}
