/**
 * Strict base64url decoding. `Buffer.from(value, 'base64url')` is lenient by design: it skips
 * characters outside the alphabet, accepts `+` and `/`, and ignores non-zero padding bits, so
 * `"abc!def"` and `"abc def"` decode "successfully". Keys, envelopes and tokens must have exactly one
 * spelling, otherwise a tampered or mistyped value can still decode to something. Hand-written
 * because no well-kept library offers a canonical-only decoder and the check is three lines.
 */

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes unpadded, canonical base64url (RFC 4648 §5). Returns `undefined` for anything else:
 * characters outside the alphabet, padding, a length that no byte string encodes to, or unused
 * trailing bits that are not zero. Never throws.
 */
export function decodeBase64url(value: string): Buffer | undefined {
  if (typeof value !== 'string' || !BASE64URL.test(value) || value.length % 4 === 1) return undefined;
  const bytes = Buffer.from(value, 'base64url');
  // Re-encoding is the canonical check: it fails exactly when trailing bits were not zero.
  return bytes.toString('base64url') === value ? bytes : undefined;
}
