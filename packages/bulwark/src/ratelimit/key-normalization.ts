/**
 * Keys as stores see them. A key is used as the Redis hash tag, so it must not be empty or contain
 * braces (Redis would hash a different part of the name, and the keys of one multi-limit decision
 * could land in different slots), and it must be bounded (an attacker-chosen header value must not
 * become a megabyte Redis key). Such keys are replaced by `#` and their SHA-256; ordinary keys never
 * start with `#` (those are hashed too), so two different keys can never share a counter.
 */
import { createHash } from 'node:crypto';

/** Longest key kept as it is. */
export const MAX_PLAIN_KEY_LENGTH = 200;
const HASH_MARK = 0x23; // '#'

/** The store key of `key`: itself when short and plain, else `#` + base64url SHA-256. */
export function normalizeKey(key: string): string {
  if (typeof key !== 'string') throw new TypeError(`key must be a string, got ${typeof key}`);
  const length = key.length;
  if (length > 0 && length <= MAX_PLAIN_KEY_LENGTH && key.charCodeAt(0) !== HASH_MARK && key.indexOf('{') === -1 && key.indexOf('}') === -1) return key;
  return `#${createHash('sha256').update(key).digest('base64url')}`;
}
