import { hostname } from 'node:os';
import { pino, type Bindings, type ChildLoggerOptions, type DestinationStream, type Logger } from 'pino';
import { createPrettyStream } from './pretty.js';
import { createRedaction, type Redaction, type RedactorOptions } from './redact.js';

/** The levels `LOG_LEVEL` may name. */
export const LOG_LEVELS = Object.freeze(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const);
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions extends RedactorOptions {
  /**
   * The lowest level written: one of {@link LOG_LEVELS}, case-insensitive, so `process.env.LOG_LEVEL`
   * can be passed as it is (validated here, a `TypeError` names the allowed values).
   * @default 'info'
   */
  readonly level?: string;
  /** Where lines go: a pino destination (`pino.destination(…)`) or any `{ write(line) }` stream. @default stdout */
  readonly destination?: DestinationStream;
  /**
   * Bindings on every line, merged over `{ pid, hostname }` (and redacted like everything else);
   * `null` writes neither pid nor hostname.
   * @default {}
   */
  readonly base?: Readonly<Record<string, unknown>> | null;
  /**
   * One human-readable line per record instead of JSON, for development only. Control characters
   * stay escaped, so a record is still one line.
   * @default false
   */
  readonly pretty?: boolean;
}

/**
 * Creates a pino logger that redacts before anything is written:
 * - values of secret-named keys ({@link DEFAULT_REDACT_KEYS} plus `redactKeys`) at any depth, in
 *   objects and arrays, whatever their case or separators, become `[REDACTED]`;
 * - credential-looking values (bearer/basic credentials, Bulwark keys, webhook and Stripe secrets,
 *   passwords in URLs, JWTs, card numbers, SSNs) are scrubbed wherever they appear, the message
 *   included, also when it is built from printf-style arguments;
 * - errors at any depth are logged as `{ type, message, stack, …, cause }`, scrubbed too;
 * - the caller's objects are never mutated; cycles, depth, array length, keys per object, string
 *   length and total work are bounded (see {@link RedactorOptions}).
 * Child loggers (`logger.child(bindings)`), their bindings, `msgPrefix`, serializers and log
 * formatters go through the same redaction.
 *
 * @example
 * const logger = createLogger({ level: process.env.LOG_LEVEL, base: { service: 'orders' } });
 * logger.info({ headers: req.headers, url: req.url }, 'request received'); // authorization → [REDACTED]
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = resolveLevel(options.level);
  const redaction = createRedaction(options);
  if (options.pretty !== undefined && typeof options.pretty !== 'boolean') throw new TypeError('pretty must be a boolean');
  if (options.base !== undefined && options.base !== null && typeof options.base !== 'object') {
    throw new TypeError('base must be an object of bindings or null');
  }
  const destination = options.destination ?? pino.destination({ fd: 1, sync: true });
  if (typeof (destination as { write?: unknown }).write !== 'function') throw new TypeError('destination must have a write(line) method');

  const base = options.base === null ? null : (redaction.redactStructure({ pid: process.pid, hostname: hostname(), ...options.base }) as Bindings);
  const logger = pino(
    {
      level,
      base,
      // Structure first (secret keys, errors, cycles, sizes), values last: every string of a record
      // ends up in one serialised line, and scrubbing that line once is far cheaper than running
      // the patterns over each string separately.
      formatters: { log: (object) => redaction.redactStructure(object) as Record<string, unknown> },
      serializers: {
        // The redactor has already turned every error into a plain object; pino's own error
        // serializer would take that object for an error again and rename its type to "Object".
        err: passThrough,
        // The message, however pino built it (printf interpolation, `err.message`): cut to size here,
        // scrubbed with the rest of the line.
        msg: (message: unknown) => (typeof message === 'string' ? redaction.limitText(message) : redaction.redactStructure(message)),
      },
      hooks: { streamWrite: redaction.scrubLine },
    },
    options.pretty === true ? createPrettyStream(destination) : destination,
  );
  guardPrintfObjects(logger, redaction);
  guardBindings(logger, redaction);
  return logger;
}

function resolveLevel(level: unknown): LogLevel {
  if (level === undefined || level === '') return 'info';
  const normalised = typeof level === 'string' ? level.trim().toLowerCase() : level;
  if (!(LOG_LEVELS as readonly unknown[]).includes(normalised)) {
    throw new TypeError(`level must be one of ${LOG_LEVELS.join(', ')}; got ${JSON.stringify(level)}`);
  }
  return normalised as LogLevel;
}

const passThrough = (value: unknown): unknown => value;

/**
 * `%j`, `%o` and `%O` print an object into the message with pino's own JSON.stringify, outside
 * `formatters.log`; pino exposes that stringifier as `symbols.formatOptsSym`. Replacing it redacts
 * those objects by key like any other (their string values are scrubbed with the line). Children
 * inherit it through the prototype chain.
 */
function guardPrintfObjects(logger: Logger, redaction: Redaction): void {
  const stringify = (value: unknown): string => {
    try {
      return JSON.stringify(redaction.redactStructure(value)) ?? String(value);
    } catch {
      return '"[Unserializable]"';
    }
  };
  (logger as unknown as Record<symbol, unknown>)[pino.symbols.formatOptsSym] = { stringify };
}

/**
 * Pino serialises child bindings with its identity formatter, bypassing `formatters.log`; children
 * are created with `Object.create(parent)`, so overriding `child` and `setBindings` on the root
 * covers every descendant.
 */
function guardBindings(logger: Logger, redaction: Redaction): void {
  // Typed loosely on purpose: pino's generic `child` signature cannot be re-declared as a value.
  const child = logger.child as unknown as (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) => Logger;
  const setBindings = logger.setBindings;
  Object.defineProperty(logger, 'child', {
    configurable: true,
    writable: true,
    value: function guardedChild(this: Logger, bindings: Bindings, childOptions?: ChildLoggerOptions): Logger {
      const safeBindings = redaction.redactStructure(bindings) as Bindings;
      if (childOptions === undefined) return child.call(this, safeBindings);
      const created = child.call(this, safeBindings, guardChildOptions(childOptions, redaction));
      // A child given pino's own `redact` option gets a fresh printf stringifier: guard it again.
      if (childOptions.redact !== undefined) guardPrintfObjects(created, redaction);
      return created;
    },
  });
  Object.defineProperty(logger, 'setBindings', {
    configurable: true,
    writable: true,
    value: function guardedSetBindings(this: Logger, bindings: Bindings): void {
      setBindings.call(this, redaction.redactStructure(bindings) as Bindings);
    },
  });
}

/** A child's own serializers and formatters are redacted after they run (their strings reach the line scrubber). */
function guardChildOptions(options: ChildLoggerOptions, redaction: Redaction): ChildLoggerOptions {
  const guarded: ChildLoggerOptions = { ...options };
  if (options.serializers !== undefined) {
    const serializers: Record<string, (value: unknown) => unknown> = {};
    for (const [key, serialize] of Object.entries(options.serializers)) {
      serializers[key] = (value) => redaction.redactStructure(serialize(value));
    }
    guarded.serializers = serializers;
  }
  if (options.formatters !== undefined) {
    const { log, bindings } = options.formatters;
    guarded.formatters = {
      ...options.formatters,
      ...(log === undefined ? {} : { log: (object: object) => redaction.redactStructure(log(object)) as object }),
      ...(bindings === undefined ? {} : { bindings: (values: Bindings) => redaction.redactStructure(bindings(values)) as object }),
    };
  }
  return guarded;
}
