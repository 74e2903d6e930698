/**
 * The part of a logger that Bulwark's components call. A pino logger satisfies it (so does the
 * redacting logger from `createLogger`), and so does a test double. Components default to a silent
 * logger, never to `console`.
 */
export interface LoggerLike {
  /** Optional: loggers without it get `error` for critical problems. */
  fatal?(object: object, message?: string): void;
  error(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  info(object: object, message?: string): void;
  debug(object: object, message?: string): void;
}

const noop = (): void => undefined;

/** A logger that drops everything: the default of components given no logger. */
export const silentLogger: LoggerLike = Object.freeze({ error: noop, warn: noop, info: noop, debug: noop });
