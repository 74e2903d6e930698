/**
 * Small, allocation-free checks on text used by the scrubber and the redactor.
 */

/** The Luhn checksum (ISO/IEC 7812) over the digits of `candidate`, ignoring spaces and dashes. */
export function isLuhnValid(candidate: string): boolean {
  let sum = 0;
  let double = false;
  let digits = 0;
  for (let index = candidate.length - 1; index >= 0; index -= 1) {
    const code = candidate.charCodeAt(index) - 48;
    if (code < 0 || code > 9) continue;
    digits += 1;
    let value = code;
    if (double) {
      value *= 2;
      if (value > 9) value -= 9;
    }
    sum += value;
    double = !double;
  }
  return digits >= 13 && digits <= 19 && sum % 10 === 0;
}

/**
 * Whether digits look like a payment card number: 13–19 digits, a first digit from 2 to 6 (the
 * major industry identifiers of card networks; epoch-millisecond timestamps start with 1) and a
 * valid Luhn checksum.
 */
export function isCardLike(candidate: string): boolean {
  const first = candidate.charCodeAt(0);
  return first >= 50 && first <= 54 && isLuhnValid(candidate);
}

/** Whether an integer logged as a number could be a card number. */
export function isCardNumber(value: number): boolean {
  if (value < 2e12 || value >= 7e18 || !Number.isSafeInteger(value)) return false;
  return isCardLike(String(value));
}

/** `ddd-dd-dddd` as issued: area 000, 666 and 900–999, group 00 and serial 0000 never are. */
export function isPlausibleSsn(ssn: string): boolean {
  const area = Number(ssn.slice(0, 3));
  return area !== 0 && area !== 666 && area < 900 && ssn.slice(4, 6) !== '00' && ssn.slice(7) !== '0000';
}

/** Whether the `word.length` characters before `end` spell `word` (lower-case ASCII), in any case. */
export function endsWithWordAt(text: string, end: number, word: string): boolean {
  const start = end - word.length;
  if (start < 0) return false;
  for (let index = 0; index < word.length; index += 1) {
    if ((text.charCodeAt(start + index) | 0x20) !== word.charCodeAt(index)) return false;
  }
  return true;
}

/** Whether `code` belongs to `[A-Za-z0-9_.-]`, the characters of a `key` in `key=value`. */
export function isKeyChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95 || code === 46 || code === 45;
}

/** Whether `index` of a JSON text lies inside a string: counts the unescaped quotes before it. */
export function insideJsonString(json: string, index: number): boolean {
  let inside = false;
  for (let position = 0; position < index; position += 1) {
    const code = json.charCodeAt(position);
    if (code === 92 /* \ */) position += 1;
    else if (code === 34 /* " */) inside = !inside;
  }
  return inside;
}

/**
 * Cuts `text` to `maxLength` characters (never between the halves of a surrogate pair) and says how
 * much was dropped, so that one huge string cannot cost unbounded work or log volume.
 */
export function truncate(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  let end = maxLength;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…[truncated ${text.length - end} chars]`;
}

/*
 * C0 and C1 control characters, DEL, the Unicode line and paragraph separators and the bidi
 * overrides: anything that can end a line, move the cursor or reorder what a terminal shows.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Escapes control characters as `\uXXXX` (`\n`, `\r` and `\t` as themselves), so that text written
 * to a line-oriented sink cannot forge a line or drive the terminal.
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (character) => {
    if (character === '\n') return '\\n';
    if (character === '\r') return '\\r';
    if (character === '\t') return '\\t';
    return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
