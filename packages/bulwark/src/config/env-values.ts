import { isIP } from 'node:net';
import { envSchema } from './env-schema.js';
import type { EnvSchema } from './env-schema.js';

export interface EnvBooleanOptions {
  /** Value when the variable is unset. @default none: required */
  readonly default?: boolean;
}

const BOOLEANS: Readonly<Record<string, boolean>> = { true: true, false: false, 1: true, 0: false };

/**
 * A boolean written exactly `true`, `false`, `1` or `0`. Everything else — `yes`, `TRUE`, `on`,
 * ` true` — is refused rather than guessed, because `Boolean('false') === true` is how a feature
 * flag ends up on in production.
 */
export function envBoolean(options: EnvBooleanOptions = {}): EnvSchema<boolean> {
  if (options.default !== undefined && typeof options.default !== 'boolean') throw new TypeError('envBoolean: default must be a boolean');
  const expects = 'true, false, 1 or 0';
  return envSchema({
    expects,
    default: options.default === undefined ? undefined : { value: options.default, text: String(options.default) },
    parse(raw) {
      const value = Object.prototype.hasOwnProperty.call(BOOLEANS, raw) ? BOOLEANS[raw] : undefined;
      return value === undefined ? { ok: false, problem: `must be ${expects} (exactly, lower case)` } : { ok: true, value };
    },
  });
}

export interface EnvEnumOptions<T extends string> {
  /** Value when the variable is unset; must be one of the values. @default none: required */
  readonly default?: T;
}

/**
 * One of a fixed set of strings, compared exactly (case-sensitive).
 *
 * @example
 * const schema = z.object({ LOG_LEVEL: envEnum(['error', 'warn', 'info', 'debug'], { default: 'info' }) });
 */
export function envEnum<const T extends string>(values: readonly [T, ...T[]], options: EnvEnumOptions<NoInfer<T>> = {}): EnvSchema<T> {
  if (!Array.isArray(values) || values.length === 0 || !values.every((value) => typeof value === 'string' && value.length > 0)) {
    throw new TypeError('envEnum: values must be a non-empty array of non-empty strings');
  }
  const allowed = new Set<string>(values);
  if (options.default !== undefined && !allowed.has(options.default)) {
    throw new TypeError(`envEnum: default must be one of ${values.join(', ')}, got ${JSON.stringify(options.default)}`);
  }
  const expects = `one of ${values.join(', ')}`;
  return envSchema({
    expects,
    default: options.default === undefined ? undefined : { value: options.default, text: options.default },
    parse(raw) {
      return allowed.has(raw) ? { ok: true, value: raw as T } : { ok: false, problem: `must be ${expects}` };
    },
  });
}

export interface EnvUrlOptions {
  /** Accepted schemes, with or without the colon: `['redis', 'rediss']`. */
  readonly protocols: readonly string[];
  /** Whether the URL must name a host (`redis://host:6379`); `postgres:///db?host=/run/postgresql` needs `false`. @default true */
  readonly requireHost?: boolean;
  /** Value when the variable is unset. @default none: required */
  readonly default?: string;
}

/**
 * A URL with one of the given schemes, parsed with WHATWG `URL`. Leading or trailing whitespace is
 * refused (the `URL` parser would strip it silently). The result is the string as given, so
 * credentials in it reach the client library untouched. Problems never quote the URL: connection
 * strings often carry a password.
 *
 * @example
 * const schema = z.object({ REDIS_URL: envUrl({ protocols: ['redis', 'rediss'] }).optional() });
 */
export function envUrl(options: EnvUrlOptions): EnvSchema<string> {
  if (typeof options !== 'object' || options === null || !Array.isArray(options.protocols) || options.protocols.length === 0) {
    throw new TypeError('envUrl: protocols must be a non-empty array such as ["redis", "rediss"]');
  }
  const protocols = options.protocols.map((protocol) => {
    if (typeof protocol !== 'string' || !/^[a-z][a-z0-9+.-]*:?$/.test(protocol)) throw new TypeError(`envUrl: protocol ${JSON.stringify(protocol)} is not a URL scheme`);
    return protocol.endsWith(':') ? protocol : `${protocol}:`;
  });
  const requireHost = options.requireHost ?? true;
  const expects = `a ${protocols.map((protocol) => protocol.slice(0, -1)).join(' or ')} URL`;
  const example = `${protocols[0]}//host:port`;
  const check = (raw: string): string | undefined => {
    if (/\s/.test(raw)) return 'must not contain whitespace';
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return `must be ${expects} (it does not parse as a URL)`;
    }
    if (!protocols.includes(url.protocol)) return `must be ${expects} (scheme ${protocols.join(' or ')} expected)`;
    if (requireHost && url.hostname === '') return `must be ${expects} with a host`;
    return undefined;
  };
  if (options.default !== undefined && check(options.default) !== undefined) throw new TypeError(`envUrl: default must be ${expects}`);
  return envSchema({
    expects,
    fix: `Set it to ${expects}, e.g. ${example}.`,
    default: options.default === undefined ? undefined : { value: options.default, text: options.default },
    parse(raw) {
      const problem = check(raw);
      return problem === undefined ? { ok: true, value: raw } : { ok: false, problem };
    },
  });
}

export interface EnvStringOptions {
  /** What a valid value looks like, for messages. @default 'a non-empty string' */
  readonly expects?: string;
  /** Longest accepted value in characters. @default 4096 */
  readonly maxLength?: number;
  /** Extra check; return `false` to refuse the value. @default none */
  readonly validate?: (value: string) => boolean;
  /** Value when the variable is unset. @default none: required */
  readonly default?: string;
}

/**
 * A non-empty string without control characters (a NUL in a path truncates it in C libraries; a
 * newline in a header value splits it), optionally checked further.
 *
 * @example
 * const schema = z.object({ BULWARK_DATA_DIR: envString({ expects: 'a directory path', default: '.bulwark' }) });
 */
export function envString(options: EnvStringOptions = {}): EnvSchema<string> {
  const { expects = 'a non-empty string', maxLength = 4096, validate } = options;
  if (!Number.isSafeInteger(maxLength) || maxLength < 1) throw new TypeError(`envString: maxLength must be a positive integer, got ${String(maxLength)}`);
  const check = (raw: string): string | undefined => {
    if (raw.length > maxLength) return `must be at most ${maxLength} characters`;
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(raw)) return 'must not contain control characters (NUL, newline, tab …)';
    if (validate !== undefined && !validate(raw)) return `must be ${expects}`;
    return undefined;
  };
  if (options.default !== undefined && (options.default.length === 0 || check(options.default) !== undefined)) {
    throw new TypeError(`envString: default must be ${expects}`);
  }
  return envSchema({
    expects,
    default: options.default === undefined ? undefined : { value: options.default, text: options.default },
    parse(raw) {
      const problem = check(raw);
      return problem === undefined ? { ok: true, value: raw } : { ok: false, problem };
    },
  });
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Whether `value` is an IPv4/IPv6 address or an RFC 1123 host name (what `server.listen` takes). */
export function isHostOrIp(value: string): boolean {
  return isIP(value) !== 0 || HOST_NAME.test(value);
}
