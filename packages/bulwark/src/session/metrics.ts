/**
 * The session and CSRF metrics. Labels are bounded: a result or reason from a fixed list, never a
 * user, tenant, session id or address.
 */
import type { Counter, Registry } from 'prom-client';
import { counterIn } from '../observability/metrics-registry.js';

export interface SessionMetrics {
  /** `session_validations_total{result}`: `valid` or the reason a session did not validate. */
  readonly validations: Counter<'result'>;
  /** `session_lockouts_total`: accounts locked after repeated failures. */
  readonly lockouts: Counter<string>;
}

export function sessionMetrics(registry: Registry): SessionMetrics {
  return {
    validations: counterIn(registry, {
      name: 'session_validations_total',
      help: 'Session validations by result (valid, not_found, expired, ip_mismatch, fingerprint_mismatch, locked).',
      labelNames: ['result'],
    }),
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
