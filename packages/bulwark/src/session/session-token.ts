/**
 * Session ids, their cookie form and what the store keeps of them.
 *
 * The cookie value is `<userTag>.<random>`:
 * - `random`: 32 bytes (256 bits) from the CSPRNG, base64url;
 * - `userTag`: HMAC-SHA256 of (tenant, user) under the keyring's `session` subkey, first 132 bits.
 *   It routes the lookup to the user's keys (one Redis Cluster slot per user) without a pointer
 *   record, and says nothing about the user to anyone without the server's key. It does link
 *   sessions of the same user to each other, which only someone holding several of that user's
 *   cookies could observe.
 *
 * The store keeps only SHA-256(cookie value) — the session's public {@link Session.id} — so a copy
 * of the database yields no usable cookie. A hash without a key is enough here: the input has 256
 * random bits, there is nothing to guess.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Keyring } from '../crypto/keyring.js';
import { memoize } from './memo.js';
import type { SessionSubject } from './types.js';

const TAG_LENGTH = 22;
const RANDOM_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const MAX_SUBJECT_LENGTH = 256;

/** A cookie value taken apart: the user tag and the hash the store keys the session by. */
export interface ParsedToken {
  readonly tag: string;
  readonly id: string;
}

/** Parses a cookie value; `undefined` for anything that is not exactly a session token. */
export function parseToken(token: unknown): ParsedToken | undefined {
  if (typeof token !== 'string' || token.length !== TAG_LENGTH + 1 + 43 || !TOKEN_PATTERN.test(token)) return undefined;
  return { tag: token.slice(0, TAG_LENGTH), id: sessionIdOf(token) };
}

/** The public id of a session: SHA-256 of its cookie value, base64url. */
export function sessionIdOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Whether `value` has the shape of a {@link Session.id}. */
export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID_PATTERN.test(value);
}

/** A fresh cookie value for a user tag. */
export function newToken(tag: string): string {
  return `${tag}.${randomBytes(RANDOM_BYTES).toString('base64url')}`;
}

/** Throws a TypeError unless `subject` names a tenant and a user (1–256 characters each). */
export function checkSubject(method: string, subject: unknown): SessionSubject {
  if (typeof subject !== 'object' || subject === null) throw new TypeError(`${method}: expected { tenant, userId }`);
  const { tenant, userId } = subject as Partial<SessionSubject>;
  for (const [name, value] of [['tenant', tenant], ['userId', userId]] as const) {
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_SUBJECT_LENGTH) {
      throw new TypeError(`${method}: ${name} must be a string of 1–${MAX_SUBJECT_LENGTH} characters`);
    }
  }
  return { tenant: tenant as string, userId: userId as string };
}

/** The keyed derivations of one store, from the keyring's `session` and `lockout-key` subkeys. */
export interface SessionKeys {
  /** The user's tag under the current key, then under the previous one (during a key rotation). */
  userTags(subject: SessionSubject): readonly string[];
  /**
   * The lockout record ids for a user tag (HMAC under the `lockout-key` subkey): the current key's,
   * where failures are counted, and the previous key's, whose locks are still honoured (the same id
   * again without a previous key).
   */
  lockIds(tag: string): { readonly lockId: string; readonly previousLockId: string };
  /** Keyed hashes of a binding value (the client network): current key first. */
  bindingHashes(value: string): readonly string[];
}

export function deriveSessionKeys(keyring: Keyring): SessionKeys {
  const sessionKeys = [keyring.subkey('session'), keyring.previousSubkey('session')].filter((key): key is Buffer => key !== undefined);
  const lockoutKey = keyring.subkey('lockout-key');
  const previousLockoutKey = keyring.previousSubkey('lockout-key');
  const hmac = (key: Buffer, label: string, value: string): string => createHmac('sha256', key).update(`${label}\0${value}`).digest('base64url');
  return {
    userTags(subject) {
      // JSON keeps the two parts apart whatever characters they contain.
      const input = JSON.stringify([subject.tenant, subject.userId]);
      return sessionKeys.map((key) => hmac(key, 'user-tag', input).slice(0, TAG_LENGTH));
    },
    lockIds: memoize((tag) => {
      const lockId = hmac(lockoutKey, 'lockout', tag).slice(0, TAG_LENGTH);
      return Object.freeze({ lockId, previousLockId: previousLockoutKey === undefined ? lockId : hmac(previousLockoutKey, 'lockout', tag).slice(0, TAG_LENGTH) });
    }),
    bindingHashes: memoize((value) => Object.freeze(sessionKeys.map((key) => hmac(key, 'binding', value).slice(0, TAG_LENGTH)))),
  };
}
