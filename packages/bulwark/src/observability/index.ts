/**
 * Observability: a redacting pino logger, the pure redaction function behind it, request ids and
 * Prometheus metrics on Bulwark's own registry. See docs/observability.md.
 */
export { createLogger, LOG_LEVELS } from './logger.js';
export type { LoggerOptions, LogLevel } from './logger.js';
export { createRedactor, redact } from './redact.js';
export { normaliseKey } from './redact-keys.js';
export type { Redactor, RedactorOptions } from './redact.js';
export { DEFAULT_REDACT_KEYS } from './redact-keys.js';
export { REDACTED } from './scrub.js';
export { escapeControlCharacters } from './text.js';
export { createPrettyStream } from './pretty.js';
export type { LineSink } from './pretty.js';
export { resolveRequestId, generateRequestId, REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from './request-id.js';
export { httpMetrics, methodLabel, statusLabel, HTTP_DURATION_BUCKETS } from './http-metrics.js';
export type { HttpMetrics, HttpObservation, HttpLabel } from './http-metrics.js';
export { safeMetric } from './safe-metric.js';
export type { LoggerLike } from './logger-like.js';
export { silentLogger } from './logger-like.js';
export { createMetricsRegistry, defaultMetricsRegistry, counterIn, gaugeIn, histogramIn } from './metrics-registry.js';
export type { MetricsRegistryOptions } from './metrics-registry.js';
