import type { ApiError } from 'bulwark/errors';
import type { LoggerLike } from 'bulwark/observability';
import type { Counter, Histogram } from 'prom-client';
import type { GatewayMetrics } from './gateway-metrics.js';

/** One answered request, as the access log and the HTTP metrics see it. */
export interface RequestRecord {
  readonly requestId: string;
  /** The route name, or a fixed label for the gateway's own endpoints (`health`, `metrics`, `unmatched` …). */
  readonly route: string;
  readonly method: string;
  /** The path without the query string (queries can carry secrets). */
  readonly path: string;
  readonly status: number;
  readonly startedAt: number;
  readonly clientIp: string;
  readonly keyId: string | undefined;
  readonly tenant: string | undefined;
  readonly error: ApiError | undefined;
  readonly aborted: string | undefined;
}

export interface RequestRecorder {
  record(entry: RequestRecord): void;
}

interface Series {
  readonly requests: ReturnType<Counter<'route' | 'method' | 'status'>['labels']>;
  readonly duration: ReturnType<Histogram<'route' | 'method' | 'status'>['labels']>;
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const LOG_LEVEL_OF_SEVERITY = { critical: 'error', error: 'error', warning: 'warn', info: 'info' } as const;

/**
 * Writes the access log line (through the redacting logger: request id, route, status, duration,
 * key id — never the key) and the `http_requests_total` / `http_request_duration_seconds` series.
 * Label children are cached per (route, method, status), so the hot path does no label hashing.
 */
export function createRequestRecorder(options: { readonly logger: LoggerLike; readonly metrics: GatewayMetrics; readonly accessLog: boolean; readonly now?: () => number }): RequestRecorder {
  const { logger, metrics, accessLog } = options;
  const now = options.now ?? (() => performance.now());
  const series = new Map<string, Series>();

  const seriesFor = (route: string, method: string, status: number): Series => {
    const key = `${route} ${method} ${status}`;
    let found = series.get(key);
    if (found === undefined) {
      const statusLabel = String(status);
      found = { requests: metrics.requests.labels(route, method, statusLabel), duration: metrics.duration.labels(route, method, statusLabel) };
      series.set(key, found);
    }
    return found;
  };

  return {
    record(entry) {
      const durationMs = now() - entry.startedAt;
      // Unknown methods share one label value so that a client cannot create series at will.
      const method = KNOWN_METHODS.has(entry.method) ? entry.method : 'OTHER';
      const target = seriesFor(entry.route, method, entry.status);
      target.requests.inc();
      target.duration.observe(durationMs / 1000);
      if (entry.error !== undefined && entry.error.status >= 500) {
        const cause = entry.error.cause;
        logger.error({ requestId: entry.requestId, route: entry.route, code: entry.error.code, err: cause ?? entry.error }, 'request failed');
      }
      if (!accessLog) return;
      const line = {
        requestId: entry.requestId,
        route: entry.route,
        method: entry.method,
        path: entry.path,
        status: entry.status,
        durationMs: Math.round(durationMs * 1000) / 1000,
        clientIp: entry.clientIp,
        keyId: entry.keyId,
        tenant: entry.tenant,
        code: entry.error?.code,
        aborted: entry.aborted,
      };
      const level = entry.error === undefined ? 'info' : LOG_LEVEL_OF_SEVERITY[entry.error.severity];
      logger[level === 'error' ? 'warn' : level](line, 'request');
    },
  };
}
