import { counterIn, histogramIn } from 'bulwark/observability';
import type { Counter, Histogram, Registry } from 'prom-client';

/**
 * The gateway's own metric families (names from DESIGN.md; `cors_rejected_total` and the limiter,
 * breaker and verifier families are registered by the bulwark modules in the same registry). Labels are bounded: route names come
 * from the config, methods from a fixed list, statuses from HTTP, reasons from code — never a key,
 * an IP or a tenant.
 */
export interface GatewayMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly duration: Histogram<'route' | 'method' | 'status'>;
  readonly authFailures: Counter<'scheme' | 'reason'>;
  readonly corsRejected: Counter<'reason'>;
}

/** Request durations from 1 ms to 30 s: a gateway's own work is sub-millisecond, upstreams are not. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  return {
    registry,
    requests: counterIn(registry, {
      name: 'http_requests_total',
      help: 'Requests answered by the gateway, by route, method and status.',
      labelNames: ['route', 'method', 'status'],
    }),
    duration: histogramIn(registry, {
      name: 'http_request_duration_seconds',
      help: 'Time from the request reaching the gateway to the end of its response.',
      labelNames: ['route', 'method', 'status'],
      buckets: DURATION_BUCKETS,
    }),
    // Shared with bulwark/auth's verifiers (same name, help and labels): they count their own refusals.
    authFailures: counterIn(registry, {
      name: 'auth_failures_total',
      help: 'Requests refused by an authentication verifier, by scheme and reason.',
      labelNames: ['scheme', 'reason'],
    }),
    // Registered here too (same labels as bulwark/http's CORS policy) so that it exists before the
    // first refusal, and in configs without CORS.
    corsRejected: counterIn(registry, {
      name: 'cors_rejected_total',
      help: 'Cross-origin requests refused by a CORS policy, by reason.',
      labelNames: ['reason'],
    }),
  };
}
