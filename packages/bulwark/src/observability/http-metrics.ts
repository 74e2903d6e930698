import type { Counter, Histogram, Registry } from 'prom-client';
import { counterIn, histogramIn } from './metrics-registry.js';

export type HttpLabel = 'method' | 'route' | 'status';

/** Request latency buckets in seconds: 5 ms … 10 s, the range where HTTP SLOs live. */
export const HTTP_DURATION_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

/** What one finished request contributes to the HTTP metrics. */
export interface HttpObservation {
  /** The request method as received; anything but the standard methods is counted as `OTHER`. */
  readonly method: string;
  /**
   * The route PATTERN that matched (`/orders/:id`), never the raw URL: a label per distinct URL
   * would let any client create unbounded series. Unmatched requests: leave it undefined.
   * @default 'unmatched'
   */
  readonly route?: string | undefined;
  /** The response status code. */
  readonly status: number;
  /** Time from the request's arrival to the end of the response, in seconds. */
  readonly durationSeconds: number;
}

export interface HttpMetrics {
  /** `http_requests_total{method,route,status}` */
  readonly requests: Counter<HttpLabel>;
  /** `http_request_duration_seconds{method,route,status}` */
  readonly duration: Histogram<HttpLabel>;
  /** Records one request in both metrics, with bounded label values. */
  observe(observation: HttpObservation): void;
}

const STANDARD_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);

/** `get` → `GET`; anything a client invents (`FOO`, `PROPFIND`, 10 kB of junk) → `OTHER`. */
export function methodLabel(method: string): string {
  const upper = method.toUpperCase();
  return STANDARD_METHODS.has(upper) ? upper : 'OTHER';
}

/** A real HTTP status as a string, or `'0'` for anything else (a response that never got one). */
export function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : '0';
}

/**
 * The standard HTTP metrics in `registry` (created on first use, shared afterwards), with an
 * `observe` that keeps label values bounded: methods normalised, statuses validated, the route
 * given as its pattern.
 *
 * @example
 * const http = httpMetrics(registry);
 * http.observe({ method: req.method, route: '/orders/:id', status: res.statusCode, durationSeconds });
 */
export function httpMetrics(registry: Registry): HttpMetrics {
  const requests = counterIn<HttpLabel>(registry, {
    name: 'http_requests_total',
    help: 'HTTP requests served, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
  });
  const duration = histogramIn<HttpLabel>(registry, {
    name: 'http_request_duration_seconds',
    help: 'Time to serve an HTTP request, by method, route pattern and status, in seconds.',
    labelNames: ['method', 'route', 'status'],
    buckets: [...HTTP_DURATION_BUCKETS],
  });
  return {
    requests,
    duration,
    observe(observation: HttpObservation): void {
      const labels = {
        method: methodLabel(observation.method),
        route: observation.route ?? 'unmatched',
        status: statusLabel(observation.status),
      };
      requests.inc(labels);
      if (Number.isFinite(observation.durationSeconds) && observation.durationSeconds >= 0) duration.observe(labels, observation.durationSeconds);
    },
  };
}
