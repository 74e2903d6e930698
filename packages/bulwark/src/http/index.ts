/**
 * HTTP building blocks: safe JSON and query parsing, trusted-proxy client IP and IP keys, safe
 * paths, secure temporary files, security headers, CSP reports and CORS. See docs/http.md.
 */
export { parseIp, formatIp, normalizeIp, parseCidrList, ipInCidrs, isLoopback, isCidrPreset } from './ip-address.js';
export type { IpAddress, CidrPreset, ParsedCidrList } from './ip-address.js';
export { createClientIpResolver, UNKNOWN_CLIENT_IP } from './client-ip.js';
export type { ClientIpResolver, ClientIpResolverOptions } from './client-ip.js';
export { ipRateLimitKey, ipPrefixKey, DEFAULT_IPV6_KEY_PREFIX_BITS } from './ip-key.js';
export { createJsonParser, parseJsonSafe, JSON_PARSE_DEFAULTS } from './json-parse.js';
export type { JsonParseOptions, JsonParseResult, JsonParseErrorCode, JsonParser } from './json-parse.js';
export { findForbiddenKey, assertNoPrototypeKeys, compileForbiddenKeys, DEFAULT_FORBIDDEN_KEYS } from './forbidden-keys.js';
export type { ForbiddenKeyFinding, ForbiddenKeyMatcher } from './forbidden-keys.js';
export { createQueryParser, parseQuerySafe, QUERY_PARSE_DEFAULTS } from './query.js';
export type { QueryParseOptions, QueryParseResult, QueryParser, QueryRecord } from './query.js';
export { resolveSafePath, resolveSafePathSync } from './safe-path.js';
export type { SafePathResult, SafePathRefusal } from './safe-path.js';
export { withTempDir, withTempFile } from './temp-files.js';
export type { TempDirOptions, TempFileOptions, TempFile } from './temp-files.js';
export { buildSecurityHeaders, DEFAULT_DENIED_FEATURES } from './security-headers.js';
export type { SecurityHeadersOptions, ContentSecurityPolicyOptions, StrictTransportSecurityOptions, CspDirectiveValue, ReferrerPolicy } from './security-headers.js';
export { parseCspReport } from './csp-report.js';
export type { CspViolation, CspReportParseResult, CspReportOptions } from './csp-report.js';
export { createCorsPolicy } from './cors.js';
export type { CorsPolicy, CorsPolicyOptions, CorsDecision, CorsRefusal } from './cors.js';
