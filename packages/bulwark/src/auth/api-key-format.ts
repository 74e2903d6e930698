import { randomBytes } from 'node:crypto';

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
 *
 * Parsing is one hand-written pass (charset, lengths and CRC32 together) rather than a regular
 * expression plus `zlib.crc32`: it runs on every request, and for a 60-byte ASCII string the native
 * call's string conversion costs more than the table-driven loop. The CRC is the standard IEEE
 * CRC-32 (the one `zlib.crc32` computes; a test holds them equal).
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 43 base62 characters hold 43 × log2(62) ≈ 256.03 bits. */
export const API_KEY_RANDOM_LENGTH = 43;
export const API_KEY_CHECKSUM_LENGTH = 6;
/** Random characters kept in the display prefix (≈ 36 bits: enough to tell keys apart, nothing to guess with). */
const DISPLAY_RANDOM_CHARS = 6;
const PREFIX = 'bw_';
const ENV_PATTERN = /^[a-z0-9]{1,16}$/;
const ENV_MAX = 16;
const UNDERSCORE = 0x5f;
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

let tables: { readonly crc: Int32Array; readonly base62: Int8Array } | undefined;

/** Built on first use (never at import): the CRC-32 table and each ASCII code's base62 value (-1 if none). */
function lookupTables(): { readonly crc: Int32Array; readonly base62: Int8Array } {
  if (tables === undefined) {
    const crc = new Int32Array(256);
    for (let n = 0; n < 256; n += 1) {
      let c = n;
      for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crc[n] = c;
    }
    const base62 = new Int8Array(128).fill(-1);
    for (let i = 0; i < BASE62.length; i += 1) base62[BASE62.charCodeAt(i)] = i;
    tables = { crc, base62 };
  }
  return tables;
}

/** IEEE CRC-32 of the first `end` characters of an ASCII string (as unsigned 32-bit). */
export function crc32Ascii(text: string, end = text.length): number {
  const { crc } = lookupTables();
  let c = -1;
  for (let i = 0; i < end; i += 1) c = (crc[(c ^ text.charCodeAt(i)) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** The 6-character checksum of `bw_<env>_<random>`. */
function checksumOf(body: string): string {
  return base62Fixed(crc32Ascii(body), API_KEY_CHECKSUM_LENGTH);
}

/**
 * One pass over a presented key: the index of the `_` that ends the environment, or why the text
 * is not a key. No allocation: the verifier calls it on every request.
 */
export function scanApiKey(text: unknown): number | ApiKeyParseFailure {
  if (typeof text !== 'string') return 'malformed';
  if (!text.startsWith(PREFIX)) return 'wrong_prefix';
  // The length bound comes first, so a 10 MB header costs nothing.
  const length = text.length;
  if (length < API_KEY_MIN_LENGTH || length > API_KEY_MAX_LENGTH) return 'malformed';
  let envEnd = PREFIX.length;
  for (; envEnd < length && envEnd - PREFIX.length <= ENV_MAX; envEnd += 1) {
    const code = text.charCodeAt(envEnd);
    if (code === UNDERSCORE) break;
    if (!((code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39))) return 'malformed';
  }
  const envLength = envEnd - PREFIX.length;
  if (envLength < 1 || envLength > ENV_MAX || text.charCodeAt(envEnd) !== UNDERSCORE) return 'malformed';
  if (length - envEnd - 1 !== API_KEY_RANDOM_LENGTH + API_KEY_CHECKSUM_LENGTH) return 'malformed';
  const { base62 } = lookupTables();
  let checksum = 0;
  const checksumStart = length - API_KEY_CHECKSUM_LENGTH;
  for (let i = envEnd + 1; i < length; i += 1) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? (base62[code] ?? -1) : -1;
    if (value < 0) return 'malformed';
    if (i >= checksumStart) checksum = checksum * 62 + value;
  }
  return crc32Ascii(text, checksumStart) === checksum ? envEnd : 'bad_checksum';
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
  const scanned = scanApiKey(text);
  if (typeof scanned !== 'number') return { ok: false, reason: scanned };
  const key = text as string;
  return { ok: true, env: key.slice(PREFIX.length, scanned), key, displayPrefix: key.slice(0, scanned + 1 + DISPLAY_RANDOM_CHARS) };
}

/** A new key id: `key_` + 22 base62 characters (≈ 131 random bits). Public, safe to log. */
export function generateKeyId(): string {
  return `key_${randomBase62(22)}`;
}
