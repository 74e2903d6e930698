/**
 * Is this value fit to be a secret? Three cheap checks that catch what actually ends up in
 * production — copied examples, placeholders, keyboard mashing — without pretending to measure
 * strength (a value's own characters cannot prove it was randomly generated):
 *
 * 1. placeholders: the deny-listed words below and runs such as `xxxxxx`, `000000`, `123456`,
 *    `abcdef` do not count towards the length. A value is refused as a placeholder when it contains
 *    any of them and what remains is shorter than the minimum: `changeme`, `my-secret-key`,
 *    `test-token-123456` are refused, while a 43-character random value that happens to contain
 *    `secret` is not. Matching is case-insensitive; words of five letters or fewer (`test`) count
 *    only where they stand alone (not inside `latest`).
 * 2. repetition: a value made of a unit repeated (`abc123abc123abc123`) is refused.
 * 3. length: at least `minBytes` bytes (UTF-8).
 * 4. entropy floor: Shannon entropy H(s) = −Σ (n_c/n)·log2(n_c/n) over the characters of the value
 *    must be at least 2.5 bits per character. Random base64url or hex of 24+ characters scores
 *    3.4–4.9 and falls below 2.5 with a probability under 10⁻⁶; `aaaaaaab…`, `abab…`, `abcdabcd…`
 *    score 0.2–2.
 */
import { shannonEntropy } from '../crypto/entropy.js';

/** Minimum Shannon entropy of a secret, in bits per character. */
export const SECRET_MIN_ENTROPY_BITS_PER_CHAR = 2.5;

/** Case-insensitive words that mark a value as a placeholder or an example. */
export const PLACEHOLDER_WORDS: readonly string[] = Object.freeze([
  'changeme', 'change-me', 'change_me', 'changethis', 'change-this', 'replaceme', 'replace-me', 'your-secret-here',
  'your_secret_here', 'yoursecrethere', 'yoursecret', 'keyboard cat', 'keyboard-cat', 'keyboardcat', 'placeholder',
  'password', 'passw0rd', 'passwd', 'secret', 'example', 'sample', 'dummy', 'default', 'test', 'qwerty', 'letmein',
  'admin', 'todo', 'fixme', 'foobar', 'lorem', 'ipsum',
]);

/** Runs of one character, or ascending/descending sequences, of this length or more count as filler. */
const FILLER_RUN = 6;

export type SecretWeakness = 'placeholder' | 'repetitive' | 'too_short' | 'low_entropy';

export type SecretAssessment = { readonly ok: true } | { readonly ok: false; readonly weakness: SecretWeakness; readonly problem: string };

export interface AssessSecretOptions {
  /** Minimum length in bytes (UTF-8). */
  readonly minBytes: number;
}

/**
 * Words this short (`test`, `todo`, `admin`) count only where they stand alone — at either end of
 * the value or next to a non-letter (`test-token`, `my_test_1`) — not inside other words (`latest`)
 * or inside random text, where `test` appears by chance in about one 24-character base64url value
 * in 20 000.
 */
const SHORT_WORD = 5;

function standsAlone(text: string, at: number, length: number): boolean {
  const isLetter = (char: string | undefined): boolean => char !== undefined && /\p{L}/u.test(char);
  return !isLetter(text[at - 1]) && !isLetter(text[at + length]);
}

/**
 * How many characters of `text` are not covered by a placeholder word or a filler run (six or more
 * characters whose code points all step by the same 0, +1 or −1: `xxxxxx`, `123456`, `fedcba`).
 */
function meaningfulLength(text: string): number {
  const chars = Array.from(text);
  const covered = new Array<boolean>(chars.length).fill(false);
  for (const word of PLACEHOLDER_WORDS) {
    const wordChars = Array.from(word);
    for (let at = text.indexOf(word); at !== -1; at = text.indexOf(word, at + 1)) {
      if (word.length <= SHORT_WORD && !standsAlone(text, at, word.length)) continue;
      const first = Array.from(text.slice(0, at)).length;
      covered.fill(true, first, first + wordChars.length);
    }
  }
  const codes = chars.map((char) => char.codePointAt(0) ?? 0);
  let start = 0;
  while (start < codes.length - 1) {
    const step = (codes[start + 1] ?? 0) - (codes[start] ?? 0);
    let end = start + 1;
    while (end + 1 < codes.length && (codes[end + 1] ?? 0) - (codes[end] ?? 0) === step) end += 1;
    if (Math.abs(step) <= 1 && end - start + 1 >= FILLER_RUN) covered.fill(true, start, end + 1);
    start = end;
  }
  return covered.filter((isCovered) => !isCovered).length;
}

/** Smallest p such that text[i] === text[i + p] for every i (the length itself when there is none). */
function smallestPeriod(text: readonly string[]): number {
  const failure = new Array<number>(text.length).fill(0);
  for (let i = 1, k = 0; i < text.length; i += 1) {
    while (k > 0 && text[i] !== text[k]) k = failure[k - 1] ?? 0;
    if (text[i] === text[k]) k += 1;
    failure[i] = k;
  }
  return text.length - (failure[text.length - 1] ?? 0);
}

/**
 * Checks a candidate secret. Never throws; the problem text never contains the value.
 *
 * @example
 * assessSecret('changeme', { minBytes: 32 });
 * // { ok: false, weakness: 'placeholder', problem: 'is a placeholder or built from one …' }
 */
export function assessSecret(value: string, options: AssessSecretOptions): SecretAssessment {
  const { minBytes } = options;
  const lower = value.toLowerCase();
  const meaningful = meaningfulLength(lower);
  if (meaningful < Array.from(lower).length && (meaningful < minBytes || meaningful === 0)) {
    return { ok: false, weakness: 'placeholder', problem: 'is a placeholder or built from one (a deny-listed word, or a repeated or counting run of characters)' };
  }
  const chars = Array.from(value);
  if (chars.length >= 2 && smallestPeriod(chars) <= chars.length / 2) {
    return { ok: false, weakness: 'repetitive', problem: 'repeats a short pattern' };
  }
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < minBytes) return { ok: false, weakness: 'too_short', problem: `must be at least ${minBytes} bytes long (it has ${bytes})` };
  const entropy = shannonEntropy(value);
  if (entropy < SECRET_MIN_ENTROPY_BITS_PER_CHAR) {
    return { ok: false, weakness: 'low_entropy', problem: `is not random enough (${entropy.toFixed(1)} bits of entropy per character; at least ${SECRET_MIN_ENTROPY_BITS_PER_CHAR} required)` };
  }
  return { ok: true };
}
