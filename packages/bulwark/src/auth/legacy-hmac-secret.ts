/**
 * Start-up checks of shared secrets: a secret that is short, a placeholder or visibly structured is
 * refused when the verifier is created (a `TypeError`), never discovered per request as a 500.
 */

/** The shortest shared secret accepted: 256 bits, the output size of HMAC-SHA256. */
export const MIN_SHARED_SECRET_BYTES = 32;

/**
 * Fragments that mark a value copied from documentation or an `.env.example`. Each is long enough
 * that a random base64 or hex secret contains it with negligible probability (≤ 1e-6).
 */
const PLACEHOLDER_FRAGMENTS = [
  'changeme',
  'change_me',
  'change-me',
  'replaceme',
  'replace_me',
  'replace-me',
  'yoursecret',
  'your_secret',
  'your-secret',
  'placeholder',
  'example',
  'dummy',
  'insecure',
  'notasecret',
  'not-a-secret',
  'not_a_secret',
  'secretkey',
  'secret_key',
  'secret-key',
  'password',
  'xxxxxx',
];

/** A random 32-byte secret has ~30 distinct bytes; fewer than this is a pattern, not a secret. */
const MIN_DISTINCT_SYMBOLS = 12;

/**
 * The bytes of a shared secret after checking it is fit for use; strings are taken as UTF-8.
 *
 * @throws TypeError naming `option` when the secret is not a string or bytes, is shorter than 32
 *   bytes, looks like a placeholder (`changeme`, `${SECRET}`, `<your-secret>`, …) or repeats a few
 *   symbols (`aaaa…`, `abab…`). The message never contains the secret.
 */
export function sharedSecretBytes(secret: unknown, option: string): Buffer {
  if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) throw new TypeError(`${option} must be a string or bytes`);
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  const hint = 'generate one with `bulwark secrets generate` or `openssl rand -base64 48`';
  if (bytes.byteLength < MIN_SHARED_SECRET_BYTES) throw new TypeError(`${option} must be at least ${MIN_SHARED_SECRET_BYTES} bytes (${hint})`);
  if (typeof secret === 'string') {
    const lower = secret.toLowerCase();
    if (PLACEHOLDER_FRAGMENTS.some((fragment) => lower.includes(fragment)) || /\$\{|^<.*>$|^\[.*\]$/s.test(secret.trim())) {
      throw new TypeError(`${option} looks like a placeholder, not a secret (${hint})`);
    }
  }
  if (new Set(bytes).size < MIN_DISTINCT_SYMBOLS) throw new TypeError(`${option} repeats too few distinct symbols to be random (${hint})`);
  return bytes;
}
