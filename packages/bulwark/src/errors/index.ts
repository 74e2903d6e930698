/**
 * Errors as HTTP problems: a catalogue of stable codes, {@link ApiError}, factories and RFC 9457
 * `application/problem+json` serialisation. See docs/errors.md.
 */
export { ERROR_CATALOGUE, ERROR_CODES, isErrorCode, docsAnchor } from './catalogue.js';
export type { ErrorCode, ErrorSeverity, ErrorDefinition } from './catalogue.js';
export { ApiError, isApiError } from './api-error.js';
export type { ApiErrorOptions } from './api-error.js';
export { errors } from './factories.js';
export { toProblem, toApiError, PROBLEM_CONTENT_TYPE } from './problem.js';
export type { ProblemDocument, ProblemResponse, ToProblemOptions } from './problem.js';
export { fromFrameworkError } from './framework.js';
export { logProblem, LOG_LEVEL_BY_SEVERITY } from './problem-log.js';
export type { ProblemLogContext } from './problem-log.js';
export { problemHeaders, STALE_CONTENT_HEADERS } from './problem-headers.js';
export { resolveProblemHandlerOptions } from './problem-handler-options.js';
export type { ProblemHandlerOptions, ResolvedProblemHandlerOptions } from './problem-handler-options.js';
