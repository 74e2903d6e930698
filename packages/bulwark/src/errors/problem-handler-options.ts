import { silentLogger, type LoggerLike } from '../observability/logger-like.js';

/** Options shared by the Express and Fastify problem handlers. */
export interface ProblemHandlerOptions {
  /** Where errors are logged, at the level their severity picks. @default silentLogger */
  readonly logger?: LoggerLike;
  /**
   * Send the internal message and stack of unexpected errors to the client. A debugging aid that
   * leaks internals: never in production. Must be set to `true` explicitly. @default false
   */
  readonly exposeErrors?: boolean;
  /** Prefix of the problem `type` URI; the code's docs anchor is appended. @default 'urn:bulwark:error:' */
  readonly typeBase?: string;
}

export interface ResolvedProblemHandlerOptions {
  readonly logger: LoggerLike;
  readonly exposeErrors: boolean;
  readonly typeBase: string | undefined;
}

/** Validates the options once, when the handler is created. */
export function resolveProblemHandlerOptions(options: ProblemHandlerOptions): ResolvedProblemHandlerOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('problem handler options must be an object');
  const logger = options.logger ?? silentLogger;
  for (const method of ['error', 'warn', 'info'] as const) {
    if (typeof logger[method] !== 'function') throw new TypeError(`logger must have ${method}(object, message) (a pino logger or a LoggerLike)`);
  }
  if (options.exposeErrors !== undefined && typeof options.exposeErrors !== 'boolean') throw new TypeError('exposeErrors must be a boolean');
  if (options.typeBase !== undefined && (typeof options.typeBase !== 'string' || options.typeBase === '')) {
    throw new TypeError('typeBase must be a non-empty string such as "https://errors.example.com/"');
  }
  return { logger, exposeErrors: options.exposeErrors === true, typeBase: options.typeBase };
}
