/**
 * Safe JSON parsing for request bodies: size, depth, key-count and forbidden-key limits enforced on
 * the raw bytes in one iterative pass before native JSON.parse builds anything. See docs/http.md.
 */
import { compileForbiddenKeys, defaultMatcher, DEFAULT_FORBIDDEN_KEYS } from './forbidden-keys.js';
import type { ForbiddenKeyMatcher } from './forbidden-keys.js';
import { integerOption } from './validate.js';
import { scanJson } from './json-scan.js';
import type { ScanLimits } from './json-scan.js';
import { isWellFormed, walkJson } from './json-walk.js';

export interface JsonParseOptions {
  /** Largest accepted body in UTF-8 bytes (a BOM included). @default 1048576 (1 MiB) */
  readonly maxBytes?: number;
  /** Deepest accepted nesting of objects and arrays (`{}` is depth 1), 1…4096. @default 64 */
  readonly maxDepth?: number;
  /** Most object keys accepted in the whole document (all objects together). @default 10000 */
  readonly maxKeys?: number;
  /**
   * Keys refused anywhere (`name`) or directly inside the value of a `parent` key (`parent.child`),
   * matched after decoding, so every spelling (`"\u005f_proto__"`, `"__pro\u0074o__"`) counts.
   * Replaces the default list, except that `__proto__` is always refused.
   * @default ['__proto__', 'prototype', 'constructor.prototype']
   */
  readonly forbiddenKeys?: readonly string[];
  /**
   * Bodies larger than this many bytes are checked on their bytes BEFORE JSON.parse, so that nothing
   * is allocated for a body that breaks a limit (~1 ns/byte, ~0.45× a parse); others are parsed
   * natively first and the tree is checked after (~0.15× a parse). CPU-wise a parse-first check costs
   * an attacker's over-limit body no more than a within-limit body of the same size that it must
   * accept anyway (`[{},{},…]`); set a threshold when memory per request is the tighter budget.
   * `0` pre-scans everything.
   * @default Infinity (never)
   */
  readonly prescanAboveBytes?: number;
}

/** The catalogue codes a JSON parse can fail with (see errors/catalogue.ts for their statuses). */
export type JsonParseErrorCode = 'PAYLOAD_TOO_LARGE' | 'JSON_MALFORMED' | 'JSON_TOO_DEEP' | 'JSON_TOO_MANY_KEYS' | 'FORBIDDEN_KEY' | 'INVALID_ENCODING';

/** The outcome of a parse: the value, or a catalogue code and a `detail` safe to show the client. */
export type JsonParseResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly code: JsonParseErrorCode; readonly detail: string };

/** A parser with its options validated and compiled once. */
export type JsonParser = (input: string | Uint8Array) => JsonParseResult;

export const JSON_PARSE_DEFAULTS = Object.freeze({
  maxBytes: 1024 * 1024,
  maxDepth: 64,
  maxKeys: 10_000,
  forbiddenKeys: DEFAULT_FORBIDDEN_KEYS,
  prescanAboveBytes: Number.POSITIVE_INFINITY,
});

const MAX_DEPTH_LIMIT = 4096;
/** A sanity bound on `maxBytes` (1 GiB): JSON bodies larger than that are a configuration mistake. */
const MAX_BYTES_LIMIT = 2 ** 30;
/** The scratch buffer that string input is encoded into is kept between calls up to this size. */
const SCRATCH_RETAINED_BYTES = 4 * 1024 * 1024;

const encoder = new TextEncoder();
const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Creates a JSON parser with validated options. Use it on hot paths; {@link parseJsonSafe} is the
 * one-call form.
 *
 * What it guarantees, in order:
 * 1. size: more than `maxBytes` UTF-8 bytes → `PAYLOAD_TOO_LARGE` (strings longer than `maxBytes`
 *    code units are refused without being measured);
 * 2. encoding: string input with a lone surrogate, or byte input that is not UTF-8 →
 *    `INVALID_ENCODING`;
 * 3. limits: deeper than `maxDepth` → `JSON_TOO_DEEP`, more than `maxKeys` keys in total →
 *    `JSON_TOO_MANY_KEYS`, a forbidden key in any spelling → `FORBIDDEN_KEY`, an escaped lone
 *    surrogate (`"\ud800"`, refused as in I-JSON, RFC 7493) → `INVALID_ENCODING`; checked on the
 *    parsed tree, or on the bytes before parsing for bodies above `prescanAboveBytes`, iteratively in
 *    both cases, so 10 000 levels of nesting are refused, never a stack overflow;
 * 4. grammar: native `JSON.parse`; anything wrong → `JSON_MALFORMED` with the position, never an
 *    echo of the input.
 *
 * One leading byte order mark (U+FEFF) is ignored, as RFC 8259 §8.1 permits; a BOM anywhere else is
 * content (and outside a string, malformed). Duplicate keys keep the last value, as in JSON.parse.
 * The returned value is built by JSON.parse from a text with no `__proto__` key, so no object in it
 * has anything but the standard prototypes.
 *
 * @throws TypeError when an option is out of range.
 * @example
 * const parseBody = createJsonParser({ maxBytes: 64 * 1024, maxDepth: 32 });
 * const result = parseBody(rawBody);
 * if (!result.ok) throw new ApiError(result.code, { detail: result.detail });
 */
export function createJsonParser(options: JsonParseOptions = {}): JsonParser {
  const maxBytes = integerOption('maxBytes', options.maxBytes, JSON_PARSE_DEFAULTS.maxBytes, 1, MAX_BYTES_LIMIT);
  const maxDepth = integerOption('maxDepth', options.maxDepth, JSON_PARSE_DEFAULTS.maxDepth, 1, MAX_DEPTH_LIMIT);
  const maxKeys = integerOption('maxKeys', options.maxKeys, JSON_PARSE_DEFAULTS.maxKeys, 0, Number.MAX_SAFE_INTEGER);
  const forbidden: ForbiddenKeyMatcher =
    options.forbiddenKeys === undefined ? defaultMatcher() : compileForbiddenKeys(options.forbiddenKeys, 'forbiddenKeys');
  const prescanAboveBytes =
    options.prescanAboveBytes === undefined || options.prescanAboveBytes === Number.POSITIVE_INFINITY
      ? JSON_PARSE_DEFAULTS.prescanAboveBytes
      : integerOption('prescanAboveBytes', options.prescanAboveBytes, 0, 0, MAX_BYTES_LIMIT);
  const limits: ScanLimits = { maxDepth, maxKeys, forbidden };
  // The Latin-1 shortcut for string input only keeps ASCII bytes faithful: a non-ASCII name in the
  // list (`café`) would be compared with bytes it can never equal there, so such lists use UTF-8.
  const latin1Scannable = namesAreAscii(forbidden);
  // Below this many UTF-16 code units a string is certainly within both byte thresholds (≤ 3 bytes each).
  const surelySmallLength = Math.floor(Math.min(maxBytes, prescanAboveBytes) / 3);
  const tooLarge = Object.freeze(failure('PAYLOAD_TOO_LARGE', `JSON body exceeds ${maxBytes} bytes`));

  /** Native parse, then the limits on the tree (the fast path for bodies that were not pre-scanned). */
  function parseAndWalk(text: string): JsonParseResult {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return failure('JSON_MALFORMED', malformedDetail(error));
    }
    // Without a \u escape, JSON.parse of well-formed text cannot produce a lone surrogate.
    const refused = walkJson(value, limits, text.includes('\\u'));
    return refused ?? { ok: true, value };
  }

  /** Native parse of a text whose bytes were already scanned. */
  function parseScanned(text: string): JsonParseResult {
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch (error) {
      return failure('JSON_MALFORMED', malformedDetail(error));
    }
  }

  return function parseJson(input) {
    if (typeof input === 'string') {
      // Every UTF-16 code unit takes at least one UTF-8 byte: longer strings cannot fit.
      if (input.length > maxBytes) return tooLarge;
      if (!isWellFormed(input)) return failure('INVALID_ENCODING', 'JSON text contains a lone surrogate');
      const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
      if (input.length <= surelySmallLength) return parseAndWalk(text);
      const byteLength = Buffer.byteLength(input, 'utf8');
      if (byteLength > maxBytes) return tooLarge;
      if (byteLength <= prescanAboveBytes) return parseAndWalk(text);
      const refused = scanJson(encodeForScan(input, byteLength, latin1Scannable), limits);
      return refused ?? parseScanned(text);
    }
    if (!(input instanceof Uint8Array)) return failure('JSON_MALFORMED', 'JSON input must be a string or bytes');
    if (input.byteLength > maxBytes) return tooLarge;
    let scanned = false;
    if (input.byteLength > prescanAboveBytes) {
      // A plain Uint8Array view keeps the scanner's element loads monomorphic (Buffer is a subclass).
      const bytes = input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
      const refused = scanJson(bytes, limits);
      if (refused !== undefined) return refused;
      scanned = true;
    }
    let text: string;
    try {
      // The decoder drops one leading BOM (ignoreBOM defaults to false).
      text = fatalDecoder.decode(input);
    } catch {
      return failure('INVALID_ENCODING', 'JSON body is not valid UTF-8');
    }
    return scanned ? parseScanned(text) : parseAndWalk(text);
  };
}

const parsersByOptions = new WeakMap<JsonParseOptions, JsonParser>();
let defaultParser: JsonParser | undefined;

/**
 * Parses JSON from a string or bytes with the limits of {@link createJsonParser}. Never throws on any
 * input; throws a TypeError only for invalid options. Parsers are cached per options object, so
 * passing the same (e.g. module-level) options object is as fast as holding a parser.
 *
 * @example
 * const result = parseJsonSafe(Buffer.from('{"a":[1,2]}'));
 * if (result.ok) console.log(result.value);
 * else console.log(result.code, result.detail); // e.g. FORBIDDEN_KEY Forbidden key "__proto__"
 */
export function parseJsonSafe(input: string | Uint8Array, options?: JsonParseOptions): JsonParseResult {
  if (options === undefined) {
    defaultParser ??= createJsonParser();
    return defaultParser(input);
  }
  let parser = parsersByOptions.get(options);
  if (parser === undefined) {
    parser = createJsonParser(options);
    parsersByOptions.set(options, parser);
  }
  return parser(input);
}

/**
 * The bytes the scanner reads for string input, in a reused scratch buffer. With only ASCII names to
 * match, only ASCII bytes matter to the scanner and neither Latin-1 nor UTF-8 ever produces an ASCII
 * byte for a non-ASCII character, so a one-byte string (every char ≤ U+00FF; V8 answers the regex
 * test in O(1) for those) is written as Latin-1, ten times faster than UTF-8 encoding; wider strings,
 * and every string when `latin1Scannable` is false, are UTF-8 encoded.
 */
function encodeForScan(text: string, utf8Length: number, latin1Scannable: boolean): Uint8Array {
  if (latin1Scannable && !WIDER_THAN_LATIN1.test(text)) {
    const scratch = scratchOf(text.length);
    scratch.buffer.write(text, 0, text.length, 'latin1');
    return scratch.bytes.subarray(0, text.length);
  }
  const scratch = scratchOf(utf8Length);
  const { written } = encoder.encodeInto(text, scratch.bytes);
  return scratch.bytes.subarray(0, written);
}

const WIDER_THAN_LATIN1 = /[\u0100-\uffff]/;
const NON_ASCII = /[\u0080-\uffff]/;

/** Whether every name the matcher compares (forbidden, parent and child names) is ASCII. */
function namesAreAscii(matcher: ForbiddenKeyMatcher): boolean {
  return matcher.namesByByteLength.every((names) => names === undefined || names.every(([name]) => !NON_ASCII.test(name)));
}

interface Scratch {
  readonly buffer: Buffer;
  /** A plain Uint8Array over the same memory (see the monomorphism note in the byte path). */
  readonly bytes: Uint8Array;
}

let scratch: Scratch = { buffer: Buffer.alloc(0), bytes: new Uint8Array(0) };

/** A scratch buffer of at least `size` bytes; kept for the next call when not larger than the cap. */
function scratchOf(size: number): Scratch {
  if (scratch.bytes.length >= size) return scratch;
  const buffer = Buffer.allocUnsafeSlow(Math.max(size, Math.min(scratch.bytes.length * 2, SCRATCH_RETAINED_BYTES)));
  const fresh: Scratch = { buffer, bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) };
  if (buffer.byteLength <= SCRATCH_RETAINED_BYTES) scratch = fresh;
  return fresh;
}


function failure(code: JsonParseErrorCode, detail: string): JsonParseResult {
  return { ok: false, code, detail };
}

/** V8 messages quote the input ("Unexpected token 'x', "…" is not valid JSON"); keep only the position. */
function malformedDetail(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position !== undefined) return `Malformed JSON at position ${position}`;
  return /Unexpected end of JSON input/.test(message) ? 'Malformed JSON: unexpected end of input' : 'Malformed JSON';
}
