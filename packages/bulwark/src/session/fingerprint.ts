/**
 * A device fingerprint from request headers: defence in depth, not identity. Every header it reads
 * is chosen by the client, so anyone who has stolen a cookie and can copy the victim's headers
 * passes it; what it stops is the careless replay of a stolen cookie from a different browser or
 * tool. It never authenticates anybody.
 */
import { createHash } from 'node:crypto';
import type { HeaderBag } from './types.js';

/** The headers of the default fingerprint, as the issue of record asks: stable per browser install. */
export const DEFAULT_FINGERPRINT_HEADERS: readonly string[] = Object.freeze(['user-agent', 'accept', 'accept-language', 'accept-encoding']);

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
/** Each header contributes at most this many characters (Node caps all headers at 16 KiB anyway). */
const MAX_VALUE_LENGTH = 4096;

/** Validates a list of header names (lower-cased, 1–16 distinct names). */
export function checkFingerprintHeaders(option: string, headers: unknown): readonly string[] {
  if (!Array.isArray(headers) || headers.length === 0 || headers.length > 16) {
    throw new TypeError(`${option} must be an array of 1–16 header names`);
  }
  const names = headers.map((name: unknown) => {
    if (typeof name !== 'string' || !HEADER_NAME.test(name.toLowerCase())) throw new TypeError(`${option}: ${JSON.stringify(name)} is not a header name`);
    return name.toLowerCase();
  });
  if (new Set(names).size !== names.length) throw new TypeError(`${option} lists a header twice`);
  return Object.freeze(names);
}

/**
 * SHA-256 (base64url) over the named headers of a request. A missing header and an empty one are
 * different inputs, and so is the order of values, so no two header sets share a preimage by
 * accident: the hash covers a JSON array with one entry per name (`null` when absent, repeated
 * values joined with `, ` as HTTP allows).
 *
 * @param names - lower-case header names. @default {@link DEFAULT_FINGERPRINT_HEADERS}
 * @example
 * deviceFingerprint({ 'user-agent': 'Mozilla/5.0 …', accept: 'text/html' }); // 'q3…' (43 characters)
 */
export function deviceFingerprint(headers: HeaderBag | undefined, names: readonly string[] = DEFAULT_FINGERPRINT_HEADERS): string {
  return hashFingerprintInput(fingerprintInput(headers, names));
}

/** What {@link deviceFingerprint} hashes: a JSON array with one entry per header name. */
export function fingerprintInput(headers: HeaderBag | undefined, names: readonly string[]): string {
  return JSON.stringify(names.map((name) => headerValue(headers, name)));
}

/** SHA-256 (base64url) of a {@link fingerprintInput}. */
export function hashFingerprintInput(input: string): string {
  return createHash('sha256').update(input).digest('base64url');
}

function headerValue(headers: HeaderBag | undefined, name: string): string | null {
  if (typeof headers !== 'object' || headers === null) return null;
  const value = headers[name];
  let text: string;
  if (typeof value === 'string') text = value;
  else if (Array.isArray(value)) text = value.filter((item): item is string => typeof item === 'string').join(', ');
  else return null;
  return text.trim().slice(0, MAX_VALUE_LENGTH);
}
