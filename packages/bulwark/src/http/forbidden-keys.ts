/**
 * Keys that must never reach application objects: the prototype-pollution vectors. A JSON object
 * with a `__proto__` key is harmless while it sits in the parsed tree (JSON.parse defines an own
 * property), but the first `Object.assign`, spread-merge or lodash `merge` that copies it onto
 * another object rewires that object's prototype. Refusing the key at the edge is the only place
 * where it is cheap and certain.
 *
 * A list entry is either a plain name, forbidden at every depth, or `parent.child`: `child` is
 * forbidden as a direct key of the object that is the value of a `parent` key. The default
 * `constructor.prototype` refuses `{"constructor": {"prototype": …}}` (the payload that reaches
 * `Object.prototype` through `obj.constructor.prototype`) while a plain `constructor` key, common in
 * real data, stays allowed.
 */
import { ApiError } from '../errors/index.js';

/** The keys refused by default: `__proto__`, `prototype`, and `prototype` directly under `constructor`. */
export const DEFAULT_FORBIDDEN_KEYS: readonly string[] = Object.freeze(['__proto__', 'prototype', 'constructor.prototype']);

/** `__proto__` is refused whatever the configured list says: it is never legitimate data. */
const ALWAYS_FORBIDDEN = '__proto__';

/** The longest configurable key name, in UTF-8 bytes (bounds the per-key work in the scanner). */
const MAX_NAME_BYTES = 128;

/** The compiled form of a forbidden-key list, built once per parser. */
export interface ForbiddenKeyMatcher {
  /** Keys refused at every depth. */
  readonly names: ReadonlySet<string>;
  /** `parent` → id (≥ 1) for `parent.child` entries. */
  readonly parentIds: ReadonlyMap<string, number>;
  /** id → children refused directly under that parent. Index 0 unused. */
  readonly childrenById: readonly ReadonlySet<string>[];
  /** Non-zero for the first UTF-8 byte of any relevant name, and for a backslash (an escaped first char). */
  readonly firstBytes: Uint8Array;
  /** Non-zero at index L when some relevant name is L UTF-16 code units long (a cheap first filter for decoded keys). */
  readonly charLengths: Uint8Array;
  /** Index L: the relevant names (forbidden, parents, children) that are L UTF-8 bytes long, as bytes. */
  readonly namesByByteLength: readonly (readonly (readonly [name: string, bytes: Uint8Array])[] | undefined)[];
}

const utf8 = new TextEncoder();

/**
 * Validates and compiles a forbidden-key list. `__proto__` is always included.
 *
 * @throws TypeError naming the entry when it is empty, too long or a malformed `parent.child` pair.
 */
export function compileForbiddenKeys(list: readonly string[] = DEFAULT_FORBIDDEN_KEYS, optionName = 'forbiddenKeys'): ForbiddenKeyMatcher {
  if (!Array.isArray(list)) throw new TypeError(`${optionName} must be an array of key names or "parent.child" pairs`);
  const names = new Set<string>([ALWAYS_FORBIDDEN]);
  const parentIds = new Map<string, number>();
  const childrenById: Set<string>[] = [new Set()];
  const relevant = new Set<string>([ALWAYS_FORBIDDEN]);
  for (const entry of list) {
    if (typeof entry !== 'string' || entry.length === 0 || utf8.encode(entry).length > MAX_NAME_BYTES) {
      throw new TypeError(`${optionName}: ${JSON.stringify(entry)} must be a non-empty string of at most ${MAX_NAME_BYTES} bytes`);
    }
    const dot = entry.indexOf('.');
    if (dot === -1) {
      names.add(entry);
      relevant.add(entry);
      continue;
    }
    const parent = entry.slice(0, dot);
    const child = entry.slice(dot + 1);
    if (parent.length === 0 || child.length === 0 || child.includes('.')) {
      throw new TypeError(`${optionName}: ${JSON.stringify(entry)} must be a key name or a "parent.child" pair`);
    }
    let id = parentIds.get(parent);
    if (id === undefined) {
      id = childrenById.length;
      parentIds.set(parent, id);
      childrenById.push(new Set());
    }
    childrenById[id]?.add(child);
    relevant.add(parent).add(child);
  }
  const firstBytes = new Uint8Array(256);
  const charLengths = new Uint8Array(MAX_NAME_BYTES + 1);
  const namesByByteLength: (readonly [string, Uint8Array])[][] = [];
  firstBytes[0x5c] = 1;
  for (const name of relevant) {
    const bytes = utf8.encode(name);
    firstBytes[bytes[0] ?? 0] = 1;
    charLengths[name.length] = 1;
    (namesByByteLength[bytes.length] ??= []).push([name, bytes]);
  }
  return Object.freeze({ names, parentIds, childrenById, firstBytes, charLengths, namesByByteLength });
}

/** Where a forbidden key was found in an already-parsed value. */
export interface ForbiddenKeyFinding {
  readonly key: string;
  /** A JSONPath-like location, e.g. `$.user.settings["__proto__"]`. */
  readonly path: string;
}

interface Frame {
  readonly value: object;
  readonly parent: Frame | undefined;
  readonly key: string | number;
  /** The parent id when this object is the value of a `parent.child` parent key, else 0. */
  readonly parentId: number;
}

/**
 * Looks for forbidden keys in an already-parsed value (from another parser, a YAML file, a
 * framework's body): own enumerable string keys of every reachable plain object and array, walked
 * iteratively (no recursion, so any depth is safe) and each object once (shared and cyclic
 * references are fine). Returns the first finding, or `undefined`.
 *
 * @example
 * findForbiddenKey(JSON.parse('{"a":[{"__proto__":{}}]}')); // { key: '__proto__', path: '$.a[0]["__proto__"]' }
 */
export function findForbiddenKey(value: unknown, matcher: ForbiddenKeyMatcher = defaultMatcher()): ForbiddenKeyFinding | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const seen = new WeakSet<object>();
  const stack: Frame[] = [{ value, parent: undefined, key: '$', parentId: 0 }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    if (seen.has(frame.value)) continue;
    seen.add(frame.value);
    if (Array.isArray(frame.value)) {
      const array: readonly unknown[] = frame.value;
      for (let index = array.length - 1; index >= 0; index -= 1) {
        const item = array[index];
        if (typeof item === 'object' && item !== null) stack.push({ value: item, parent: frame, key: index, parentId: 0 });
      }
      continue;
    }
    const record = frame.value as Record<string, unknown>;
    const children = frame.parentId === 0 ? undefined : matcher.childrenById[frame.parentId];
    const keys = Object.keys(record);
    for (let index = keys.length - 1; index >= 0; index -= 1) {
      const key = keys[index] as string;
      if (matcher.names.has(key) || children?.has(key) === true) return { key, path: pathOf(frame, key) };
      const item = record[key];
      if (typeof item === 'object' && item !== null) {
        const parentId = Array.isArray(item) ? 0 : (matcher.parentIds.get(key) ?? 0);
        stack.push({ value: item, parent: frame, key, parentId });
      }
    }
  }
  return undefined;
}

/**
 * Throws an {@link ApiError} `FORBIDDEN_KEY` (400) when {@link findForbiddenKey} finds a key; for
 * code paths where a thrown problem is the natural way out (middleware, request handlers).
 *
 * @throws ApiError with code `FORBIDDEN_KEY`.
 */
export function assertNoPrototypeKeys(value: unknown, matcher?: ForbiddenKeyMatcher): void {
  const finding = findForbiddenKey(value, matcher);
  if (finding !== undefined) {
    throw new ApiError('FORBIDDEN_KEY', { detail: `Forbidden key ${JSON.stringify(finding.key)} at ${finding.path}` });
  }
}

let cachedDefault: ForbiddenKeyMatcher | undefined;

/** The matcher for {@link DEFAULT_FORBIDDEN_KEYS}, compiled on first use. */
export function defaultMatcher(): ForbiddenKeyMatcher {
  cachedDefault ??= compileForbiddenKeys(DEFAULT_FORBIDDEN_KEYS);
  return cachedDefault;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Paths are built from client-supplied keys and end up in problem details: keep them short. */
const MAX_PATH_LENGTH = 200;

function pathOf(frame: Frame, lastKey: string): string {
  const parts: string[] = [segment(lastKey)];
  for (let current: Frame | undefined = frame; current?.parent !== undefined; current = current.parent) parts.push(segment(current.key));
  const path = `$${parts.reverse().join('')}`;
  return path.length <= MAX_PATH_LENGTH ? path : `…${path.slice(path.length - MAX_PATH_LENGTH)}`;
}

function segment(key: string | number): string {
  if (typeof key === 'number') return `[${key}]`;
  return IDENTIFIER.test(key) && key !== ALWAYS_FORBIDDEN ? `.${key}` : `[${JSON.stringify(key)}]`;
}
