/**
 * Keys as stores see them: bounded (an attacker-chosen header value must not become a megabyte
 * Redis key) and never empty. Longer or empty keys are replaced by `#` and their SHA-256; ordinary
 * keys never start with `#` (those are hashed too), so two different keys can never share a
 * counter. (The Redis store also hashes keys containing braces, which would change the hash tag:
 * see {@link hashTagSafeKey}.)
 */
import { createHash } from 'node:crypto';

/** Longest key kept as it is. */
export const MAX_PLAIN_KEY_LENGTH = 200;
const HASH_MARK = 0x23; // '#'

function hashed(key: string): string {
  return `#${createHash('sha256').update(key).digest('base64url')}`;
}

/** The store key of `key`: itself when short and plain, else `#` + base64url SHA-256. */
export function normalizeKey(key: string): string {
  if (typeof key !== 'string') throw new TypeError(`key must be a string, got ${typeof key}`);
  const length = key.length;
  if (length > 0 && length <= MAX_PLAIN_KEY_LENGTH && key.charCodeAt(0) !== HASH_MARK) return key;
  return hashed(key);
}

/**
 * A normalised key usable as a Redis Cluster hash tag: one containing `{` or `}` would make Redis
 * hash another part of the key name (and the keys of one multi-limit check could land in different
 * slots), so it is hashed as well. Hashed keys start with `#`, which plain ones never do.
 */
export function hashTagSafeKey(key: string): string {
  return key.indexOf('{') === -1 && key.indexOf('}') === -1 ? key : hashed(key);
}
