import { createRateLimiter, type RateLimitStore } from 'bulwark/ratelimit';
import type { LoggerLike } from 'bulwark/observability';
import type { Registry } from 'prom-client';

/** CSP reports per client IP and minute: a page with a broken policy sends a few, not thousands. */
const REPORTS_PER_MINUTE = 30;

/** The per-IP allowance of `POST /csp-report`, on the gateway's rate-limit store. */
export function createCspReportLimiter(store: RateLimitStore, registry: Registry, logger: LoggerLike): (clientIp: string) => Promise<boolean> {
  const limiter = createRateLimiter({
    name: 'csp-report',
    keyPrefix: 'gateway.csp-report',
    algorithm: 'gcra',
    limit: REPORTS_PER_MINUTE,
    windowMs: 60_000,
    store,
    onStoreFailure: 'open',
    registry,
    logger,
  });
  return async (clientIp) => (await limiter.consume(`ip:${clientIp}`)).allowed;
}
