/**
 * HTTP building blocks: trusted-proxy client IP and IP keys. See docs/http.md.
 */
export { parseIp, formatIp, normalizeIp, parseCidrList, ipInCidrs, isLoopback, isCidrPreset } from './ip-address.js';
export type { IpAddress, CidrPreset, ParsedCidrList } from './ip-address.js';
export { createClientIpResolver, UNKNOWN_CLIENT_IP } from './client-ip.js';
export type { ClientIpResolver, ClientIpResolverOptions } from './client-ip.js';
export { ipRateLimitKey, ipPrefixKey, DEFAULT_IPV6_KEY_PREFIX_BITS } from './ip-key.js';
