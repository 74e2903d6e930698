import { decodeBase64url } from './base64url.js';
import { shannonEntropy } from './entropy.js';
import { generateSecret } from './generate-secret.js';

/** Shortest master key accepted: 32 bytes (256 bits), the AES-256 and HMAC-SHA256 key size. */
export const MASTER_KEY_MIN_BYTES = 32;
/** Longest master key accepted; longer input adds nothing to HKDF-SHA256 and hints at a mistake. */
export const MASTER_KEY_MAX_BYTES = 1024;
/**
 * Floor on the Shannon entropy of a master key's bytes (see {@link shannonEntropy}). 32 random
 * bytes score about 4.9 bits per byte and fall below 4.0 with a probability far below 10⁻⁹; a key
 * cut from a repeated pattern (all zeros, `changeme` repeated, a counter) scores 0–3.
 */
export const MASTER_KEY_MIN_ENTROPY_BITS_PER_BYTE = 4;

const HOW_TO_GENERATE = 'generate one with `npx bulwark secrets generate`';

/**
 * Decodes and checks a master key given as base64url (what `bulwark secrets generate` and
 * {@link generateMasterKey} print). The key must be canonical unpadded base64url, decode to at least
 * 32 bytes, and not be visibly structured (Shannon entropy of its bytes ≥ 4 bits per byte). The
 * message of the error never contains the value.
 *
 * @throws TypeError saying what is wrong and how to generate a proper key.
 * @example
 * const key = parseMasterKey(process.env.BULWARK_MASTER_KEY ?? '');
 */
export function parseMasterKey(value: string): Buffer {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`master key is empty: ${HOW_TO_GENERATE}`);
  }
  if (/[+/=]/.test(value) && /^[A-Za-z0-9+/=_-]*$/.test(value)) {
    throw new TypeError(`master key must be base64url without padding (use - and _ instead of + and /, drop =): ${HOW_TO_GENERATE}`);
  }
  const bytes = decodeBase64url(value);
  if (bytes === undefined) {
    throw new TypeError(`master key is not valid base64url (only A-Z a-z 0-9 - _ are allowed, no spaces or padding): ${HOW_TO_GENERATE}`);
  }
  if (bytes.length < MASTER_KEY_MIN_BYTES) {
    throw new TypeError(`master key must decode to at least ${MASTER_KEY_MIN_BYTES} bytes, got ${bytes.length}: ${HOW_TO_GENERATE}`);
  }
  if (bytes.length > MASTER_KEY_MAX_BYTES) {
    throw new TypeError(`master key must decode to at most ${MASTER_KEY_MAX_BYTES} bytes, got ${bytes.length}`);
  }
  if (shannonEntropy(bytes) < MASTER_KEY_MIN_ENTROPY_BITS_PER_BYTE) {
    throw new TypeError(`master key is not random (its bytes repeat a pattern): ${HOW_TO_GENERATE}`);
  }
  return bytes;
}

/**
 * A new master key: 32 bytes from the CSPRNG as base64url (43 characters), ready for
 * `BULWARK_MASTER_KEY`.
 *
 * @example
 * const keyring = createKeyring({ current: parseMasterKey(generateMasterKey()) });
 */
export function generateMasterKey(): string {
  return generateSecret(MASTER_KEY_MIN_BYTES);
}
