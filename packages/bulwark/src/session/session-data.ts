/**
 * Session data on its way in and out of the store: a small plain JSON object, checked when written
 * (a programming error throws) and parsed with the safe JSON parser when read (a corrupt or
 * tampered record is refused, never trusted).
 */
import { createJsonParser } from '../http/json-parse.js';
import type { JsonParser } from '../http/json-parse.js';
import type { SessionData } from './types.js';

const MAX_DEPTH = 16;
const MAX_KEYS = 512;

export interface SessionDataCodec {
  /** The JSON text of `data`. @throws TypeError when `data` is not a plain JSON object; RangeError when it is too large. */
  encode(method: string, data: unknown): string;
  /** The data of a stored record; `undefined` when the text is not a safe JSON object. */
  decode(text: string): SessionData | undefined;
}

export function createSessionDataCodec(maxDataBytes: number): SessionDataCodec {
  const parse: JsonParser = createJsonParser({ maxBytes: maxDataBytes, maxDepth: MAX_DEPTH, maxKeys: MAX_KEYS });
  return {
    encode(method, data) {
      if (!isPlainObject(data)) throw new TypeError(`${method}: data must be a plain object of JSON values`);
      const problem = findNonJson(data);
      if (problem !== undefined) throw new TypeError(`${method}: data${problem} is not a JSON value (strings, finite numbers, booleans, null, arrays and plain objects only)`);
      let text: string;
      try {
        text = JSON.stringify(data);
      } catch (error) {
        throw new TypeError(`${method}: data cannot be serialised (${error instanceof Error ? error.message : String(error)})`);
      }
      const checked = parse(text);
      if (!checked.ok) {
        if (checked.code === 'PAYLOAD_TOO_LARGE') throw new RangeError(`${method}: data is ${Buffer.byteLength(text)} bytes as JSON, more than maxDataBytes (${maxDataBytes})`);
        throw new TypeError(`${method}: data refused (${checked.code}): ${checked.detail}`);
      }
      return text;
    },
    decode(text) {
      const result = parse(text);
      return result.ok && isPlainObject(result.value) ? (result.value as SessionData) : undefined;
    },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** The path of the first value JSON cannot carry faithfully, or `undefined`. Iterative; each object is walked once. */
function findNonJson(root: Record<string, unknown>): string | undefined {
  const stack: { readonly value: unknown; readonly path: string }[] = [{ value: root, path: '' }];
  const seen = new Set<object>();
  let visited = 0;
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    visited += 1;
    // A bound on the walk: anything this large fails the size check anyway.
    if (visited > 100_000) return ' (too many values)';
    const { value, path } = frame;
    if (value === null || typeof value === 'string' || typeof value === 'boolean') continue;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return path;
      continue;
    }
    if (typeof value !== 'object') return path;
    // Shared objects are fine for JSON; a cycle is left to JSON.stringify, which refuses it.
    if (seen.has(value)) continue;
    seen.add(value);
    if (Array.isArray(value)) {
      value.forEach((item: unknown, index) => stack.push({ value: item, path: `${path}[${index}]` }));
      continue;
    }
    if (!isPlainObject(value)) return path;
    for (const [key, item] of Object.entries(value)) stack.push({ value: item, path: `${path}.${key}` });
  }
  return undefined;
}
