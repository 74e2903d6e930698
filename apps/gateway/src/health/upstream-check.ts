import type { UpstreamPool } from '../proxy/upstream-pool.js';
import type { HealthCheck } from './health-check.js';

/**
 * An upstream is up when its breaker is not open and a GET of its `healthPath` answers below 500
 * within the timeout. The probe goes through the same keep-alive pool as the traffic.
 */
export function upstreamHealthCheck(upstream: UpstreamPool, timeoutMs: number): HealthCheck {
  const path = `${upstream.basePath}${upstream.config.healthPath}` || '/';
  return {
    name: `upstream:${upstream.name}`,
    required: upstream.config.required,
    async check() {
      if (upstream.guard.snapshot().state === 'open') return false;
      try {
        const response = await upstream.pool.request({
          path,
          method: 'GET',
          headers: { host: upstream.host, 'user-agent': 'bulwark-readiness' },
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        await response.body.dump();
        return response.statusCode < 500;
      } catch {
        return false;
      }
    },
  };
}
