import type { SecretKeyMatcher } from './redact-keys.js';
import { endsWithWordAt, insideJsonString, isCardLike, isKeyChar, isPlausibleSsn } from './text.js';

/** What every redacted value becomes. */
export const REDACTED = '[REDACTED]';

/*
 * Credential-looking values, found wherever they appear: in plain strings (`redact`) and in whole
 * serialised JSON log lines (the logger scrubs each line once instead of each string).
 *
 * Speed: almost no log line holds a credential, so the work is in proving that cheaply. Each rule
 * family has a trigger found with `indexOf` (native, memchr-fast, no regex start-up) on a rare
 * character, checked around each hit; only the families whose trigger fired run their regex. The
 * one family that needs a regex to trigger (digits: card numbers, SSNs) uses one short pattern.
 *
 * Safety of JSON lines: no rule matches a `"` or a `\`, except the embedded-JSON rule, which
 * consumes escape sequences whole, and the escape a credential may follow, which is put back as it
 * was; card-like digits outside JSON strings (numbers, already checked by the redactor) are left
 * alone, so a scrubbed line is still valid JSON. Every repetition is bounded, so no input makes a
 * pattern super-linear.
 */

const SCHEME = 1; // Bearer / Basic credentials
const VENDOR_KEY = 2; // bw_…, whsec_…, sk_live_…
const URL_PASSWORD = 4; // scheme://user:password@host
const JWT = 8; // eyJ….….…
const DIGITS = 16; // card numbers, SSNs
const JSON_PAIR = 32; // "password":"…" embedded in text

/**
 * Where a credential may start, as group 1 of each rule below, kept in the output: a word boundary,
 * or a JSON escape. In a serialised line a newline, tab or other control character before a
 * credential reads `\n`, `\t`, `\u000b`, and `\b` alone sees no boundary between the escape's last
 * letter and the credential's first. (In plain text a literal backslash-letter then counts as a
 * boundary too: more redaction, never less.) Matched rather than looked behind for: a leading
 * lookbehind costs V8 its quick check and made these rules twenty times slower.
 */
const START = String.raw`(\b|\\(?:[bfnrt]|u[0-9A-Fa-f]{4}))`;

const SCHEME_RULE = new RegExp(String.raw`${START}(bearer|basic) +([A-Za-z0-9\-._~+/]{8,4096}=*)`, 'gi');
const VENDOR_KEY_RULE = new RegExp(String.raw`${START}(?:bw_[a-z0-9]{1,16}_[A-Za-z0-9]{16,256}|whsec_[A-Za-z0-9+/=]{8,256}|[rs]k_(?:live|test)_[A-Za-z0-9]{8,256})`, 'g');
const URL_PASSWORD_RULE = /:\/\/([^\s:@/?#"\\]{0,256}):([^\s/?#"\\]{1,256})(?=@)/g;
const JWT_RULE = new RegExp(String.raw`${START}eyJ[A-Za-z0-9_-]{2,8192}\.[A-Za-z0-9_-]{2,8192}(?:\.[A-Za-z0-9_-]{0,8192})?`, 'g');
const DIGITS_RULE = new RegExp(String.raw`${START}(?:(\d{3}-\d{2}-\d{4})\b|([2-6](?:[ -]?\d){12,18})\b)`, 'g');
/** What a rule's match becomes: the boundary it started with (an escape, or nothing), then the mark. */
const REDACTED_AFTER_START = `$1${REDACTED}`;
/**
 * Necessary for {@link DIGITS_RULE}: eight digits in a row or in two groups of four, or an SSN.
 * Spelled out (`\d\d\d\d`, not `\d{4}`): V8 then compiles a quick check that makes this pattern
 * several times faster on long lines; the common `\d\d\d` prefix is factored out.
 */
const DIGITS_TRIGGER = /\d\d\d(?:\d[ -]?\d\d\d\d|-\d\d-\d\d\d\d)/g;
/*
 * `"key":"value"` inside a string (a logged body, an error quoting JSON). Serialised, the same text
 * reads `\"key\":\"value\"`; the line's own top-level pairs do not match that, the redactor has
 * handled their keys. Group 1: everything up to the value; group 2: the key.
 */
const TEXT_PAIR_RULE = /("([A-Za-z0-9_.-]{1,64})"\s{0,8}:\s{0,8}")(?:[^"\\]|\\.){1,4096}/g;
/*
 * The value, in the line's escapes: a plain character, an escape other than `\"` and `\\` (`\n`,
 * `\u…`), or an escaped backslash and what it escapes in the embedded text: `\\\"` is a quote inside
 * the value, not its end, so a password holding a quote is not cut there.
 */
const LINE_PAIR_RULE = /(\\"([A-Za-z0-9_.-]{1,64})\\"\s{0,8}:\s{0,8}\\")(?:[^"\\]|\\[^"\\]|\\\\(?:[^"\\]|\\.)){1,4096}/g;

/**
 * A word, not a credential: `Basic authentication`, `Bearer required`. Real credentials are encoded
 * or long; a lower-case word of up to 14 letters (`authentication`) is left as it is.
 */
const PLAIN_WORD = /^[a-z]{1,14}$/;

/**
 * Replaces credential-looking substrings of `text` with `[REDACTED]`: `Bearer`/`Basic` credentials,
 * Bulwark API keys (`bw_<env>_…`), `whsec_` secrets, Stripe keys, passwords in URLs (the user name
 * stays), JWTs, US SSNs, Luhn-valid card numbers (contiguous or in groups of four), and the values
 * of secret-named `key=value` and `"key":"value"` pairs. Returns `text` itself when nothing matches.
 *
 * With `jsonLine`, `text` is one serialised JSON document (a log line) and stays valid JSON.
 */
export function scrubSecrets(text: string, isSecretKey: SecretKeyMatcher, jsonLine = false): string {
  // The shortest credential any rule matches is 8 characters; most log strings are shorter.
  if (text.length < 8) return text;
  const found = triggers(text, jsonLine);
  let out = text;
  if (found !== 0) {
    if ((found & SCHEME) !== 0) {
      out = out.replace(SCHEME_RULE, (match: string, start: string, scheme: string, credentials: string) => (PLAIN_WORD.test(credentials) ? match : `${start}${scheme} ${REDACTED}`));
    }
    if ((found & VENDOR_KEY) !== 0) out = out.replace(VENDOR_KEY_RULE, REDACTED_AFTER_START);
    if ((found & URL_PASSWORD) !== 0) out = out.replace(URL_PASSWORD_RULE, (_match: string, user: string) => `://${user}:${REDACTED}`);
    if ((found & JWT) !== 0) out = out.replace(JWT_RULE, REDACTED_AFTER_START);
    if ((found & DIGITS) !== 0) {
      out = out.replace(DIGITS_RULE, (match: string, start: string, ssn: string | undefined, card: string | undefined, offset: number, whole: string) => {
        if (ssn !== undefined) return isPlausibleSsn(ssn) ? `${start}${REDACTED}` : match;
        return card !== undefined && isCardLike(card) && (!jsonLine || insideJsonString(whole, offset)) ? `${start}${REDACTED}` : match;
      });
    }
    if ((found & JSON_PAIR) !== 0) {
      out = out.replace(jsonLine ? LINE_PAIR_RULE : TEXT_PAIR_RULE, (match: string, head: string, key: string) => (isSecretKey(key) ? `${head}${REDACTED}` : match));
    }
  }
  return scrubKeyValuePairs(out, isSecretKey);
}

/** Which rule families could match `text`; zero for the overwhelming majority of lines. */
function triggers(text: string, jsonLine: boolean): number {
  let found = 0;
  if (text.includes('@') && text.includes('://')) found |= URL_PASSWORD;
  if (text.includes(jsonLine ? '\\"' : '"')) found |= JSON_PAIR;
  for (let at = text.indexOf('_'); at !== -1; at = text.indexOf('_', at + 1)) {
    if (isVendorKeyAt(text, at)) {
      found |= VENDOR_KEY;
      break;
    }
  }
  for (let at = text.indexOf('J'); at !== -1; at = text.indexOf('J', at + 1)) {
    if (at >= 2 && text.charCodeAt(at - 1) === 121 /* y */ && text.charCodeAt(at - 2) === 101 /* e */) {
      found |= JWT;
      break;
    }
  }
  for (let at = text.indexOf(' '); at !== -1; at = text.indexOf(' ', at + 1)) {
    // Most spaces follow neither an `r` nor a `c`: one character decides before any comparison.
    const before = text.charCodeAt(at - 1) | 0x20;
    if ((before === 114 /* r */ && endsWithWordAt(text, at, 'bearer')) || (before === 99 /* c */ && endsWithWordAt(text, at, 'basic'))) {
      found |= SCHEME;
      break;
    }
  }
  DIGITS_TRIGGER.lastIndex = jsonLine ? afterTimestamp(text) : 0;
  if (DIGITS_TRIGGER.test(text)) found |= DIGITS;
  return found;
}

/**
 * Whether the `_` at `at` is part of a `bw_`, `whsec_`, `sk_live_`/`sk_test_` or `rk_…` prefix. The
 * character before the `_` rules out most underscores (snake_case keys) before any comparison.
 */
function isVendorKeyAt(text: string, at: number): boolean {
  switch (text.charCodeAt(at - 1)) {
    case 119 /* w */:
      return text.charCodeAt(at - 2) === 98 /* b */;
    case 99 /* c */:
      return text.startsWith('whse', at - 5);
    case 107 /* k */: {
      const before = text.charCodeAt(at - 2);
      return (before === 115 /* s */ || before === 114 /* r */) && (text.startsWith('live_', at + 1) || text.startsWith('test_', at + 1));
    }
    default:
      return false;
  }
}

/**
 * Pino lines open with `{"level":30,"time":1700000000000,`: thirteen digits that would fire the
 * digits trigger on every line. They are a number, never a secret; the scan starts after them.
 */
function afterTimestamp(line: string): number {
  const at = line.indexOf('"time":');
  if (at === -1 || at > 24) return 0;
  const comma = line.indexOf(',', at);
  return comma === -1 ? 0 : comma;
}

/**
 * `token=…`, `access_token=…`, `password=…` in query strings, form bodies and messages. Found by
 * walking from each `=` back over the key rather than by a regex that would try every position.
 */
function scrubKeyValuePairs(text: string, isSecretKey: SecretKeyMatcher): string {
  let out = '';
  let copied = 0;
  for (let equals = text.indexOf('='); equals !== -1; equals = text.indexOf('=', equals + 1)) {
    let start = equals;
    while (start > 0 && equals - start < 64 && isKeyChar(text.charCodeAt(start - 1))) start -= 1;
    const key = text.slice(start, equals);
    if (key === '') continue;
    // In a serialised line, `\ntoken=` is an escaped newline followed by the key: skip the escape.
    // After a literal backslash (`C:\app\password=`, `\\password=` in a line) the key is whole:
    // which one it is cannot be told from here, so either spelling being secret is enough.
    const escaped = start > 0 && text.charCodeAt(start - 1) === 92 /* \ */;
    if (!isSecretKey(key) && !(escaped && isSecretKey(key.slice(key.startsWith('u') ? 5 : 1)))) continue;
    let end = equals + 1;
    while (end < text.length && end - equals <= 4096 && !isValueStop(text.charCodeAt(end))) end += 1;
    if (end === equals + 1) continue;
    out += `${text.slice(copied, equals + 1)}${REDACTED}`;
    copied = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Where a `key=value` value ends: `& # " ' ; , \` and whitespace. */
function isValueStop(code: number): boolean {
  return code === 38 || code === 35 || code === 34 || code === 39 || code === 59 || code === 44 || code === 92 || code <= 32;
}
