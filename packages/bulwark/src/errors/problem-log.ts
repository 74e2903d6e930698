import type { LoggerLike } from '../observability/logger-like.js';
import { redact } from '../observability/redact.js';
import type { ErrorSeverity } from './catalogue.js';
import type { ProblemResponse } from './problem.js';

/** The log level each severity is written at. `critical` uses `fatal` where the logger has it. */
export const LOG_LEVEL_BY_SEVERITY: Readonly<Record<ErrorSeverity, 'fatal' | 'error' | 'warn' | 'info'>> = Object.freeze({
  critical: 'fatal',
  error: 'error',
  warning: 'warn',
  info: 'info',
});

/** Where the problem happened, for the log line. */
export interface ProblemLogContext {
  readonly requestId?: string | undefined;
  readonly method?: string | undefined;
  /** The request path; the query string is dropped (it is where tokens travel). */
  readonly url?: string | undefined;
  /** The matched route pattern, when the framework knows it. */
  readonly route?: string | undefined;
}

/**
 * Logs a problem response at the level its severity picks, with the code, status, request and the
 * underlying cause (redacted: a cause may quote a connection string or a header). An expected error
 * without a cause (a rate limit, a bad signature) is logged without a stack.
 * A logger that throws is ignored: logging must never turn one failure into two.
 */
export function logProblem(logger: LoggerLike, problem: ProblemResponse, context: ProblemLogContext = {}): void {
  const { error } = problem;
  const fields: Record<string, unknown> = { code: error.code, status: problem.status };
  if (context.requestId !== undefined) fields.requestId = context.requestId;
  if (context.method !== undefined) fields.method = context.method;
  if (context.url !== undefined) fields.path = pathOnly(context.url);
  if (context.route !== undefined) fields.route = context.route;
  if (error.cause !== undefined) fields.err = redact(error.cause);
  else if (error.severity === 'critical' || error.severity === 'error') fields.err = redact(error);
  const message = `${error.code}: ${error.title}`;
  try {
    const level = LOG_LEVEL_BY_SEVERITY[error.severity];
    if (level === 'fatal') {
      if (typeof logger.fatal === 'function') logger.fatal(fields, message);
      else logger.error(fields, message);
    } else {
      logger[level](fields, message);
    }
  } catch {
    // Nothing sensible to do: the response must still be sent.
  }
}

function pathOnly(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
