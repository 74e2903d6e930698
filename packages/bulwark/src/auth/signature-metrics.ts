import type { Registry } from 'prom-client';
import { counterIn, defaultMetricsRegistry, histogramIn } from '../observability/metrics-registry.js';

/**
 * The authentication metrics every verifier of this module records. Labels are bounded: `scheme`
 * is one of a fixed set per verifier (`signature`, `legacy_hmac`, `webhook_standard`, …) and
 * `reason` one of the verifier's failure reasons — never a key id, a client or a path.
 */
export interface AuthMetrics {
  /** Records one verification that started at `startedAt` (a `performance.now()` reading). */
  observe(startedAt: number, reason: string | undefined): void;
}

const DURATION_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/**
 * `auth_failures_total{scheme,reason}` and `auth_verification_duration_seconds{scheme}` in
 * `registry`, bound to one `scheme` so that a verification costs two label-less lookups.
 */
export function authMetrics(scheme: string, registry: Registry = defaultMetricsRegistry()): AuthMetrics {
  const failures = counterIn<'scheme' | 'reason'>(registry, {
    name: 'auth_failures_total',
    help: 'Requests refused by an authentication verifier, by scheme and reason.',
    labelNames: ['scheme', 'reason'],
  });
  const duration = histogramIn<'scheme'>(registry, {
    name: 'auth_verification_duration_seconds',
    help: 'Time spent verifying a request signature, legacy HMAC or webhook, key lookup and replay check included.',
    labelNames: ['scheme'],
    buckets: DURATION_BUCKETS_SECONDS,
  });
  const durationForScheme = duration.labels({ scheme });
  const failuresByReason = new Map<string, ReturnType<typeof failures.labels>>();
  return {
    observe(startedAt, reason) {
      durationForScheme.observe((performance.now() - startedAt) / 1000);
      if (reason === undefined) return;
      let counter = failuresByReason.get(reason);
      if (counter === undefined) {
        counter = failures.labels({ scheme, reason });
        failuresByReason.set(reason, counter);
      }
      counter.inc();
    },
  };
}
