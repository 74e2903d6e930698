/**
 * The session and CSRF metrics. Labels are bounded: a result or reason from a fixed list, never a
 * user, tenant, session id or address.
 */
import type { Counter, Registry } from 'prom-client';
import { counterIn } from '../observability/metrics-registry.js';

export interface SessionMetrics {
  /** `session_validations_total{result}`: `valid` or the reason a session did not validate. */
  readonly validations: Counter<'result'>;
  /** The `session_validations_total` child for one result (looked up once, not per request). */
  validation(result: string): { inc(): void };
  /** `session_lockouts_total`: accounts locked after repeated failures. */
  readonly lockouts: Counter<string>;
}

export function sessionMetrics(registry: Registry): SessionMetrics {
  const validations = counterIn(registry, {
    name: 'session_validations_total',
    help: 'Session validations by result (valid, not_found, expired, ip_mismatch, fingerprint_mismatch, locked).',
    labelNames: ['result'],
  });
  const children = new Map<string, { inc(): void }>();
  return {
    validations,
    validation(result) {
      let child = children.get(result);
      if (child === undefined) {
        child = validations.labels(result);
        children.set(result, child);
      }
      return child;
    },
    lockouts: counterIn(registry, { name: 'session_lockouts_total', help: 'Accounts locked after repeated failed attempts.' }),
  };
}

/** `csrf_rejected_total{reason, mode}`: unsafe requests refused (or, in report-only mode, that would have been). */
export function csrfRejections(registry: Registry): Counter<'reason' | 'mode'> {
  return counterIn(registry, {
    name: 'csrf_rejected_total',
    help: 'Unsafe requests failing the CSRF check, by reason (cross_site, missing, invalid) and mode (enforce, report-only).',
    labelNames: ['reason', 'mode'],
  });
}
