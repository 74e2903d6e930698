import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * The API key format: `bw_<env>_<random><checksum>`.
 *
 * - `env`: `[a-z0-9]{1,16}` (`live`, `test`, `staging`…), so a test key is recognisable at a glance
 *   and a verifier can refuse keys of the wrong environment.
 * - `random`: 43 base62 characters drawn uniformly — 256 bits, the entropy of 32 random bytes.
 * - `checksum`: CRC32 of everything before it, as 6 base62 characters (zero-padded). It is not a
 *   security feature: it lets a verifier reject mistyped or made-up keys without a database lookup,
 *   and lets secret scanners tell a real leaked key from look-alike noise (GitHub's token scheme).
 *
 * Secret scanners: {@link API_KEY_PATTERN}, `\bbw_[a-z0-9]{1,16}_[0-9A-Za-z]{49}\b`, then the
 * checksum.
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 43 base62 characters hold 43 × log2(62) ≈ 256.03 bits. */
export const API_KEY_RANDOM_LENGTH = 43;
export const API_KEY_CHECKSUM_LENGTH = 6;
/** Random characters kept in the display prefix (≈ 36 bits: enough to tell keys apart, nothing to guess with). */
const DISPLAY_RANDOM_CHARS = 6;
const PREFIX = 'bw_';
const ENV_PATTERN = /^[a-z0-9]{1,16}$/;
const KEY_PATTERN = /^bw_([a-z0-9]{1,16})_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$/;
export const API_KEY_MIN_LENGTH = PREFIX.length + 1 + 1 + API_KEY_RANDOM_LENGTH + API_KEY_CHECKSUM_LENGTH;
export const API_KEY_MAX_LENGTH = PREFIX.length + 16 + 1 + API_KEY_RANDOM_LENGTH + API_KEY_CHECKSUM_LENGTH;

/** For secret scanners (global, word-bounded): finds candidate Bulwark keys in text; confirm each with {@link parseApiKey}. */
export const API_KEY_PATTERN = /\bbw_[a-z0-9]{1,16}_[0-9A-Za-z]{49}\b/g;

export type ApiKeyParseFailure = 'malformed' | 'bad_checksum' | 'wrong_prefix';

export type ParsedApiKey =
  | {
      readonly ok: true;
      /** The environment segment, e.g. `live`. */
      readonly env: string;
      /** The key as given (already validated: plain ASCII, no whitespace). */
      readonly key: string;
      /** Safe to show and log: `bw_live_AbC12x`. */
      readonly displayPrefix: string;
    }
  | { readonly ok: false; readonly reason: ApiKeyParseFailure };

/** Uniform base62 characters from the CSPRNG (rejection sampling: bytes ≥ 248 are dropped, so no character is favoured). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(Math.ceil((length - out.length) * 1.1) + 4);
    for (const byte of bytes) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

function base62Fixed(value: number, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i += 1) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

/** The 6-character checksum of `bw_<env>_<random>`. */
function checksumOf(body: string): string {
  return base62Fixed(crc32(body), API_KEY_CHECKSUM_LENGTH);
}

/** Whether `env` is a valid environment segment: `[a-z0-9]{1,16}`. */
export function isApiKeyEnv(env: unknown): env is string {
  return typeof env === 'string' && ENV_PATTERN.test(env);
}

/**
 * Generates a new API key. Show it to its owner once; store only its hash.
 *
 * @param env - environment segment, `[a-z0-9]{1,16}`. @default 'live'
 * @throws TypeError on an invalid `env`.
 * @example
 * generateApiKey('test'); // 'bw_test_0Xk…' (57 characters)
 */
export function generateApiKey(env = 'live'): string {
  if (!isApiKeyEnv(env)) throw new TypeError(`generateApiKey: env must match ${ENV_PATTERN.source}; got ${JSON.stringify(env)}`);
  const body = `${PREFIX}${env}_${randomBase62(API_KEY_RANDOM_LENGTH)}`;
  return body + checksumOf(body);
}

/**
 * Checks a presented key's shape and checksum — no I/O, never throws, whatever the input (`unknown`
 * on purpose: headers arrive as arrays, numbers come from bad JSON). Rejected: anything that is not
 * exactly the ASCII format (so Unicode look-alikes, whitespace and wrong lengths are `malformed`),
 * a missing `bw_` prefix (`wrong_prefix`), and a checksum that does not match (`bad_checksum`).
 *
 * @example
 * const parsed = parseApiKey(req.headers['x-api-key']);
 * if (!parsed.ok) return reject(parsed.reason);
 */
export function parseApiKey(text: unknown): ParsedApiKey {
  if (typeof text !== 'string') return { ok: false, reason: 'malformed' };
  if (!text.startsWith(PREFIX)) return { ok: false, reason: 'wrong_prefix' };
  // The length bound comes before the pattern, so a 10 MB header costs nothing.
  if (text.length < API_KEY_MIN_LENGTH || text.length > API_KEY_MAX_LENGTH) return { ok: false, reason: 'malformed' };
  const match = KEY_PATTERN.exec(text);
  const env = match?.[1];
  const random = match?.[2];
  const checksum = match?.[3];
  if (env === undefined || random === undefined || checksum === undefined) return { ok: false, reason: 'malformed' };
  if (checksumOf(text.slice(0, text.length - API_KEY_CHECKSUM_LENGTH)) !== checksum) return { ok: false, reason: 'bad_checksum' };
  return { ok: true, env, key: text, displayPrefix: `${PREFIX}${env}_${random.slice(0, DISPLAY_RANDOM_CHARS)}` };
}

/** A new key id: `key_` + 22 base62 characters (≈ 131 random bits). Public, safe to log. */
export function generateKeyId(): string {
  return `key_${randomBase62(22)}`;
}
