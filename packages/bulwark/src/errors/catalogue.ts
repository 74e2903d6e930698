/**
 * The catalogue of Bulwark error codes. Codes are stable strings: clients and dashboards match on
 * them, so a code is never renamed or reused for another meaning. Each carries the HTTP status it
 * answers with, a severity (which picks the log level), a short title and the anchor of its entry in
 * docs/errors.md.
 */

/** How bad an error is; picks the log level: critical → fatal, error → error, warning → warn, info → info. */
export type ErrorSeverity = 'critical' | 'error' | 'warning' | 'info';

export interface ErrorDefinition {
  readonly status: number;
  readonly severity: ErrorSeverity;
  readonly title: string;
}

const define = <const T extends Record<string, ErrorDefinition>>(codes: T): { readonly [K in keyof T]: T[K] } =>
  Object.freeze(codes);

export const ERROR_CATALOGUE = define({
  // --- authentication and authorisation ---
  AUTH_REQUIRED: { status: 401, severity: 'info', title: 'Authentication required' },
  AUTH_INVALID: { status: 401, severity: 'warning', title: 'Invalid credentials' },
  FORBIDDEN: { status: 403, severity: 'warning', title: 'Forbidden' },
  INSUFFICIENT_SCOPE: { status: 403, severity: 'warning', title: 'Insufficient scope' },
  // --- request signatures (RFC 9421 and legacy HMAC) ---
  SIGNATURE_MISSING: { status: 401, severity: 'info', title: 'Request signature required' },
  SIGNATURE_MALFORMED: { status: 400, severity: 'warning', title: 'Malformed request signature' },
  SIGNATURE_INVALID: { status: 401, severity: 'warning', title: 'Invalid request signature' },
  SIGNATURE_UNKNOWN_KEY: { status: 401, severity: 'warning', title: 'Unknown signing key' },
  SIGNATURE_EXPIRED: { status: 401, severity: 'info', title: 'Request signature expired' },
  SIGNATURE_FUTURE: { status: 401, severity: 'warning', title: 'Request signature created in the future' },
  SIGNATURE_REPLAYED: { status: 401, severity: 'warning', title: 'Request signature already used' },
  SIGNATURE_ALG_MISMATCH: { status: 401, severity: 'warning', title: 'Signature algorithm not allowed for this key' },
  SIGNATURE_COMPONENT_MISSING: { status: 401, severity: 'warning', title: 'Required signature component not covered' },
  CONTENT_DIGEST_MISMATCH: { status: 401, severity: 'warning', title: 'Content digest does not match the body' },
  // --- API keys ---
  API_KEY_MISSING: { status: 401, severity: 'info', title: 'API key required' },
  API_KEY_MALFORMED: { status: 401, severity: 'warning', title: 'Malformed API key' },
  API_KEY_INVALID: { status: 401, severity: 'warning', title: 'Invalid API key' },
  API_KEY_EXPIRED: { status: 401, severity: 'info', title: 'API key expired' },
  API_KEY_REVOKED: { status: 401, severity: 'warning', title: 'API key revoked' },
  KEY_NOT_FOUND: { status: 404, severity: 'info', title: 'Key not found' },
  // --- webhooks ---
  WEBHOOK_SIGNATURE_MISSING: { status: 401, severity: 'info', title: 'Webhook signature required' },
  WEBHOOK_SIGNATURE_MALFORMED: { status: 400, severity: 'warning', title: 'Malformed webhook signature' },
  WEBHOOK_SIGNATURE_INVALID: { status: 401, severity: 'warning', title: 'Invalid webhook signature' },
  WEBHOOK_TIMESTAMP_OUT_OF_RANGE: { status: 401, severity: 'warning', title: 'Webhook timestamp outside tolerance' },
  WEBHOOK_REPLAYED: { status: 401, severity: 'warning', title: 'Webhook message already delivered' },
  // --- sessions and CSRF ---
  SESSION_REQUIRED: { status: 401, severity: 'info', title: 'Session required' },
  SESSION_INVALID: { status: 401, severity: 'info', title: 'Session invalid or expired' },
  ACCOUNT_LOCKED: { status: 429, severity: 'warning', title: 'Too many failed attempts; try again later' },
  CSRF_REJECTED: { status: 403, severity: 'warning', title: 'Cross-site request refused' },
  CSRF_TOKEN_MISSING: { status: 403, severity: 'warning', title: 'CSRF token required' },
  CSRF_TOKEN_INVALID: { status: 403, severity: 'warning', title: 'Invalid CSRF token' },
  CONSOLE_SIGN_IN_FAILED: { status: 401, severity: 'warning', title: 'Sign-in failed' },
  // --- rate limits and load shedding ---
  RATE_LIMITED: { status: 429, severity: 'info', title: 'Too many requests' },
  CONCURRENCY_LIMITED: { status: 429, severity: 'info', title: 'Too many concurrent requests' },
  RATE_LIMIT_STORE_UNAVAILABLE: { status: 503, severity: 'error', title: 'Rate limit store unavailable' },
  BULKHEAD_FULL: { status: 503, severity: 'warning', title: 'Service at capacity' },
  // --- payloads and parsing ---
  PAYLOAD_TOO_LARGE: { status: 413, severity: 'info', title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, severity: 'info', title: 'Unsupported media type' },
  JSON_MALFORMED: { status: 400, severity: 'info', title: 'Malformed JSON' },
  JSON_TOO_DEEP: { status: 400, severity: 'warning', title: 'JSON nested too deeply' },
  JSON_TOO_MANY_KEYS: { status: 400, severity: 'warning', title: 'JSON has too many keys' },
  FORBIDDEN_KEY: { status: 400, severity: 'warning', title: 'Forbidden key in input' },
  INVALID_ENCODING: { status: 400, severity: 'info', title: 'Invalid character encoding' },
  QUERY_INVALID: { status: 400, severity: 'info', title: 'Invalid query string' },
  HEADER_INVALID: { status: 400, severity: 'info', title: 'Invalid header' },
  PATH_INVALID: { status: 400, severity: 'warning', title: 'Invalid path' },
  HEADERS_TOO_LARGE: { status: 431, severity: 'info', title: 'Request headers too large' },
  REQUEST_TIMEOUT: { status: 408, severity: 'info', title: 'Request not received in time' },
  EXPECTATION_FAILED: { status: 417, severity: 'info', title: 'Expectation not supported' },
  // --- validation ---
  VALIDATION_FAILED: { status: 422, severity: 'info', title: 'Request validation failed' },
  BAD_REQUEST: { status: 400, severity: 'info', title: 'Bad request' },
  // --- CORS ---
  CORS_ORIGIN_REJECTED: { status: 403, severity: 'info', title: 'Origin not allowed' },
  CORS_METHOD_REJECTED: { status: 403, severity: 'info', title: 'Method not allowed for cross-origin requests' },
  // --- routing ---
  NOT_FOUND: { status: 404, severity: 'info', title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, severity: 'info', title: 'Method not allowed' },
  CONFLICT: { status: 409, severity: 'info', title: 'Conflict' },
  // --- upstreams and resilience ---
  UPSTREAM_UNAVAILABLE: { status: 503, severity: 'error', title: 'Upstream unavailable' },
  UPSTREAM_TIMEOUT: { status: 504, severity: 'error', title: 'Upstream timed out' },
  UPSTREAM_ERROR: { status: 502, severity: 'error', title: 'Bad response from upstream' },
  CIRCUIT_OPEN: { status: 503, severity: 'warning', title: 'Circuit open' },
  TIMEOUT: { status: 504, severity: 'error', title: 'Operation timed out' },
  // --- operations ---
  METRICS_FORBIDDEN: { status: 403, severity: 'warning', title: 'Metrics access denied' },
  DEPENDENCY_UNAVAILABLE: { status: 503, severity: 'error', title: 'A required dependency is unavailable' },
  SERVICE_UNAVAILABLE: { status: 503, severity: 'error', title: 'Service unavailable' },
  CONSOLE_NOT_BUILT: { status: 503, severity: 'error', title: 'Console not built' },
  // --- configuration (start-up) ---
  CONFIG_INVALID: { status: 500, severity: 'critical', title: 'Invalid configuration' },
  ENV_INVALID: { status: 500, severity: 'critical', title: 'Invalid environment' },
  SECRET_WEAK: { status: 500, severity: 'critical', title: 'Weak or placeholder secret' },
  // --- internal ---
  INTERNAL_ERROR: { status: 500, severity: 'critical', title: 'Internal server error' },
});

/** A stable Bulwark error code. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Every code in the catalogue, in declaration order. */
export const ERROR_CODES = Object.freeze(Object.keys(ERROR_CATALOGUE) as ErrorCode[]);

/** Whether `value` is a code in the catalogue. Uses an own-property check so `__proto__` is not a code. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CATALOGUE, value);
}

/** The anchor of a code's entry in docs/errors.md: `RATE_LIMITED` → `rate_limited`. */
export function docsAnchor(code: ErrorCode): string {
  return code.toLowerCase();
}
