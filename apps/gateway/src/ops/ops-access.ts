import { ApiError } from 'bulwark/errors';
import { ipInCidrs, isLoopback, parseCidrList, type ParsedCidrList } from 'bulwark/http';
import { safeEqual } from 'bulwark/auth';

export interface OpsAccessOptions {
  /** Bearer token scrapers must send. */
  readonly token?: string | undefined;
  /** Client addresses allowed (IPs, CIDR ranges, presets). */
  readonly allowedIps?: readonly string[] | undefined;
}

/**
 * Who may read `/metrics` and `/health/summary`. With a token, the request must carry it
 * (`Authorization: Bearer …`, compared in constant time); with an allow-list, the client address
 * (through trusted proxies only) must be on it; with both, both must hold; with neither, only
 * loopback clients are served. Returns the problem to answer, or `undefined` to serve.
 */
export function createOpsAccess(options: OpsAccessOptions): (clientIp: string, authorization: string | undefined) => ApiError | undefined {
  const token = options.token;
  const allowed: ParsedCidrList | undefined = options.allowedIps === undefined ? undefined : parseCidrList(options.allowedIps, 'metrics.allowedIps');
  const expected = token === undefined ? undefined : `Bearer ${token}`;
  return (clientIp, authorization) => {
    const ipAllowed = allowed === undefined ? token !== undefined || isLoopback(clientIp) : ipInCidrs(clientIp, allowed);
    const tokenAllowed = expected === undefined || (authorization !== undefined && safeEqual(authorization, expected));
    if (ipAllowed && tokenAllowed) return undefined;
    return new ApiError('METRICS_FORBIDDEN', { detail: 'This endpoint needs an allowed address or a valid token.' });
  };
}
