import { createSecretKeyMatcher, type SecretKeyMatcher } from './redact-keys.js';
import { REDACTED, scrubSecrets } from './scrub.js';
import { isCardNumber, truncate } from './text.js';

export interface RedactorOptions {
  /** Key names to redact in addition to {@link DEFAULT_REDACT_KEYS} (compared case- and separator-insensitively). @default [] */
  readonly redactKeys?: readonly string[];
  /** Objects nested deeper than this are replaced with `'[Truncated: depth]'`. @default 16 */
  readonly maxDepth?: number;
  /** Array items beyond this are dropped and counted in a last item `'[… N more items]'`. @default 100 */
  readonly maxArrayLength?: number;
  /** Keys of one object beyond this are dropped and counted under the key `'[truncated]'`. @default 200 */
  readonly maxKeys?: number;
  /** Strings longer than this are cut and marked `…[truncated N chars]`. @default 8192 */
  readonly maxStringLength?: number;
  /** Objects, arrays and strings examined in one call; past it values become `'[Truncated]'`. @default 5000 */
  readonly maxNodes?: number;
}

/**
 * Returns a copy of `value` safe to log or send: secret-named keys redacted at any depth,
 * credential-looking strings scrubbed, long strings and arrays cut, cycles replaced with
 * `'[Circular]'`, errors turned into plain `{ type, message, stack, … }` objects. Never mutates its
 * input, and returns the input itself when nothing needed changing (the common case, allocation-free).
 */
export type Redactor = (value: unknown) => unknown;

const LIMITS = {
  maxDepth: { fallback: 16, min: 1, max: 1000 },
  maxArrayLength: { fallback: 100, min: 1, max: 1_000_000 },
  maxKeys: { fallback: 200, min: 1, max: 1_000_000 },
  maxStringLength: { fallback: 8192, min: 64, max: 100_000_000 },
  maxNodes: { fallback: 5000, min: 1, max: 100_000_000 },
} as const;

type Limits = { readonly [K in keyof typeof LIMITS]: number };

function resolveLimits(options: RedactorOptions): Limits {
  const resolved: Record<string, number> = {};
  for (const [name, { fallback, min, max }] of Object.entries(LIMITS)) {
    const value = options[name as keyof typeof LIMITS] ?? fallback;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new TypeError(`${name} must be an integer from ${min} to ${max}; got ${String(value)}`);
    }
    resolved[name] = value;
  }
  return resolved as Limits;
}

function validateRedactKeys(keys: unknown): readonly string[] {
  if (keys === undefined) return [];
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === 'string' && key.length > 0)) {
    throw new TypeError('redactKeys must be an array of non-empty strings');
  }
  return keys as readonly string[];
}

/** Per-call state; never shared by two walks at once, so a getter that logs cannot corrupt a walk. */
interface WalkState {
  budget: number;
  readonly ancestors: object[];
}

/**
 * Creates a {@link Redactor}. Options are validated once, here.
 *
 * @example
 * const redact = createRedactor({ redactKeys: ['x-tenant-secret'] });
 * redact({ headers: { Authorization: 'Bearer abc…' } }); // → { headers: { Authorization: '[REDACTED]' } }
 */
export function createRedactor(options: RedactorOptions = {}): Redactor {
  return createRedaction(options).redactValue;
}

/** A redactor and the string scrubbers behind it, sharing one key list and one set of limits. */
export interface Redaction {
  readonly redactValue: Redactor;
  /**
   * Like `redactValue` but leaves the content of strings to {@link Redaction.scrubLine} (it still cuts
   * long ones): for a logger that scrubs each serialised line in one pass.
   */
  readonly redactStructure: Redactor;
  /** Truncates and scrubs one string: what `redactValue` does to every string it meets. */
  readonly scrubText: (text: string) => string;
  /** Scrubs one serialised JSON line, keeping it valid JSON. */
  readonly scrubLine: (line: string) => string;
  /** Cuts a string to `maxStringLength`, nothing else. */
  readonly limitText: (text: string) => string;
}

/** @internal The logger needs every part; users need {@link createRedactor}. */
export function createRedaction(options: RedactorOptions = {}): Redaction {
  const limits = resolveLimits(options);
  const isSecretKey = createSecretKeyMatcher(validateRedactKeys(options.redactKeys));
  const full = new Walker(limits, isSecretKey, true);
  const structure = new Walker(limits, isSecretKey, false);
  return {
    redactValue: (value) => full.run(value),
    redactStructure: (value) => structure.run(value),
    scrubText: (text) => scrubSecrets(truncate(text, limits.maxStringLength), isSecretKey),
    scrubLine: (line) => scrubSecrets(line, isSecretKey, true),
    limitText: (text) => truncate(text, limits.maxStringLength),
  };
}

class Walker {
  /** A state to reuse, so a call allocates none; taken while in use, so a re-entrant call gets its own. */
  private spare: WalkState | undefined = { budget: 0, ancestors: [] };
  /** One {@link KeyMemo} per depth of the first few: log records repeat the same shapes. */
  private readonly memos: readonly KeyMemo[] = Array.from({ length: MEMO_DEPTH }, () => new KeyMemo());

  constructor(
    private readonly limits: Limits,
    private readonly isSecretKey: SecretKeyMatcher,
    private readonly scrubStrings: boolean,
  ) {}

  run(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return this.walk(value, 0, { budget: this.limits.maxNodes, ancestors: [] });
    const state = this.spare ?? { budget: 0, ancestors: [] };
    this.spare = undefined;
    state.budget = this.limits.maxNodes;
    try {
      return this.walk(value, 0, state);
    } finally {
      // Every walk pops what it pushed; this only matters if one was cut short by a stack overflow.
      if (state.ancestors.length !== 0) state.ancestors.length = 0;
      this.spare = state;
    }
  }

  walk(value: unknown, depth: number, state: WalkState): unknown {
    switch (typeof value) {
      case 'string':
        return this.string(value, state);
      case 'number':
        return value >= 2e12 && isCardNumber(value) ? REDACTED : value;
      case 'object':
        return value === null ? null : this.object(value, depth, state);
      default:
        return value;
    }
  }

  string(value: string, state: WalkState): string {
    if (value.length < 8) return value;
    if (--state.budget < 0) return '[Truncated]';
    const cut = truncate(value, this.limits.maxStringLength);
    return this.scrubStrings ? scrubSecrets(cut, this.isSecretKey) : cut;
  }

  object(value: object, depth: number, state: WalkState): unknown {
    if (depth >= this.limits.maxDepth) return '[Truncated: depth]';
    if (state.ancestors.includes(value)) return '[Circular]';
    if (--state.budget < 0) return '[Truncated]';
    state.ancestors.push(value);
    try {
      if (Array.isArray(value)) return this.array(value, depth, state);
      if (value instanceof Error) return this.error(value, depth, state);
      if (value instanceof Date) return value;
      if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[Binary: ${value.byteLength} bytes]`;
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      // JSON.stringify would call toJSON and print its result, which must be redacted in turn.
      if (typeof toJSON === 'function') return this.walk(toJSON.call(value), depth + 1, state);
      return this.record(value as Record<string, unknown>, depth, state);
    } catch {
      // A throwing getter, toJSON or proxy trap: say so rather than fail the log call.
      return '[Unserializable]';
    } finally {
      state.ancestors.pop();
    }
  }

  /**
   * Copy-on-write: keeps `value` until the first member that changes, then clones it once (object
   * spread is a single fast native copy) and overwrites what changed. `for…in` rather than
   * `Object.keys`: V8 serves `value[key]` inside it from the enum cache, and it allocates no array.
   */
  record(value: Record<string, unknown>, depth: number, state: WalkState): unknown {
    const memo = this.memos[depth];
    let copy: Record<string, unknown> | undefined;
    let seen = 0;
    for (const key in value) {
      if (!hasOwn.call(value, key)) continue;
      if (seen === this.limits.maxKeys) return withoutExtraKeys(value, copy, seen);
      const secret = memo === undefined ? this.isSecretKey(key) : memo.isSecretAt(seen, key, this.isSecretKey);
      seen += 1;
      const current = value[key];
      let next: unknown;
      if (secret) next = current === undefined ? undefined : REDACTED;
      // Short strings and small numbers, most members of a log record, need no call at all.
      else if (typeof current === 'string') {
        if (current.length < 8) continue;
        // The logger's walk leaves a string of ordinary length as it is (its line scrub reads it).
        if (!this.scrubStrings && current.length <= this.limits.maxStringLength && --state.budget >= 0) continue;
        next = state.budget < 0 ? '[Truncated]' : this.string(current, state);
      } else if (typeof current === 'number' && current < 2e12) continue;
      else next = this.walk(current, depth + 1, state);
      if (next !== current && !Number.isNaN(current)) {
        copy ??= { ...value };
        setMember(copy, key, next);
      }
    }
    return copy ?? value;
  }

  array(value: readonly unknown[], depth: number, state: WalkState): unknown {
    const count = Math.min(value.length, this.limits.maxArrayLength);
    let copy: unknown[] | undefined;
    for (let index = 0; index < count; index += 1) {
      const current = value[index];
      const next = this.walk(current, depth + 1, state);
      if (copy === undefined && next !== current && !Number.isNaN(current)) copy = value.slice(0, index);
      if (copy !== undefined) copy.push(next);
    }
    if (value.length > count) {
      copy ??= value.slice(0, count);
      copy.push(`[… ${value.length - count} more items]`);
    }
    return copy ?? value;
  }

  /**
   * Errors print as `{}` with JSON.stringify (their members are not enumerable), so they always
   * become a plain object, with the cause chain and aggregated errors walked like everything else.
   */
  error(value: Error, depth: number, state: WalkState): Record<string, unknown> {
    const constructorName = (value.constructor as { name?: unknown } | undefined)?.name;
    const out: Record<string, unknown> = {
      type: typeof constructorName === 'string' && constructorName !== '' ? constructorName : String(value.name),
      message: this.string(String(value.message), state),
    };
    if (typeof value.stack === 'string') out.stack = this.string(value.stack, state);
    const members = this.record(value as unknown as Record<string, unknown>, depth, state);
    if (typeof members === 'object' && members !== null) {
      for (const key of Object.keys(members)) {
        if (!(key in out)) setMember(out, key, (members as Record<string, unknown>)[key]);
      }
    }
    if (value.cause !== undefined) out.cause = this.walk(value.cause, depth + 1, state);
    const aggregated = (value as { errors?: unknown }).errors;
    if (Array.isArray(aggregated) && !('errors' in out)) out.errors = this.walk(aggregated, depth + 1, state);
    return out;
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Depths and key positions whose verdicts {@link KeyMemo} remembers. */
const MEMO_DEPTH = 4;
const MEMO_KEYS = 64;
const MEMO_KEY_LENGTH = 128;

/**
 * The keys met at each position of the last objects walked at one depth, with their verdicts. A
 * logger sees the same record shape call after call: then each key is the very string remembered at
 * its position (one pointer comparison) and needs no lookup. A key that differs is decided by the
 * matcher and remembered in its place, so the memo only ever holds verdicts the matcher gave for
 * that exact string; it holds at most {@link MEMO_KEYS} keys of up to {@link MEMO_KEY_LENGTH} characters.
 */
class KeyMemo {
  private readonly keys: (string | undefined)[] = new Array<string | undefined>(MEMO_KEYS).fill(undefined);
  private readonly verdicts: boolean[] = new Array<boolean>(MEMO_KEYS).fill(false);

  isSecretAt(position: number, key: string, isSecretKey: SecretKeyMatcher): boolean {
    if (position >= MEMO_KEYS) return isSecretKey(key);
    if (this.keys[position] === key) return this.verdicts[position] === true;
    const verdict = isSecretKey(key);
    // A huge hostile key is decided but not kept alive here.
    if (key.length <= MEMO_KEY_LENGTH) {
      this.verdicts[position] = verdict;
      this.keys[position] = key;
    }
    return verdict;
  }
}

/** The first `kept` members (already redacted in `copy`, if any) and a count of the ones dropped. */
function withoutExtraKeys(value: Record<string, unknown>, copy: Record<string, unknown> | undefined, kept: number): Record<string, unknown> {
  const keys = Object.keys(value);
  const source = copy ?? value;
  const out: Record<string, unknown> = {};
  for (let index = 0; index < kept; index += 1) {
    const key = keys[index] as string;
    setMember(out, key, source[key]);
  }
  out['[truncated]'] = `${keys.length - kept} more keys`;
  return out;
}

/** Assigns an own data property; `__proto__` included, which a plain assignment would turn into a prototype change. */
function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

let defaultRedactor: Redactor | undefined;

/**
 * Redacts `value` with the default key list and limits: the pure function behind the logger, for
 * error responses, audit entries and anything else that leaves the process.
 *
 * @example
 * redact({ user: 'ann', password: 'hunter2', note: 'token=abc123def456' });
 * // → { user: 'ann', password: '[REDACTED]', note: 'token=[REDACTED]' }
 */
export function redact(value: unknown): unknown {
  defaultRedactor ??= createRedactor();
  return defaultRedactor(value);
}
