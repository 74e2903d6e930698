import { randomBytes } from 'node:crypto';

/** Fewest random bytes {@link generateSecret} produces: 128 bits. */
export const MIN_SECRET_BYTES = 16;
/** Most random bytes {@link generateSecret} produces in one value. */
export const MAX_SECRET_BYTES = 1024;

/**
 * A new secret: `bytes` bytes from the operating system's CSPRNG (`crypto.randomBytes`), encoded as
 * unpadded base64url, so it is safe in `.env` files, URLs and headers without quoting.
 *
 * @param bytes - how many random bytes (16–1024). @default 32 (256 bits → 43 characters)
 * @throws TypeError when `bytes` is not an integer in range.
 * @example
 * const token = generateSecret();    // 'q3Zc…' (43 characters)
 * const short = generateSecret(24);  // 32 characters
 */
export function generateSecret(bytes = 32): string {
  if (!Number.isSafeInteger(bytes) || bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    throw new TypeError(`generateSecret: bytes must be an integer between ${MIN_SECRET_BYTES} and ${MAX_SECRET_BYTES}, got ${String(bytes)}`);
  }
  return randomBytes(bytes).toString('base64url');
}
