import type { Registry } from 'prom-client';
import { counterIn, defaultMetricsRegistry, gaugeIn } from '../observability/metrics-registry.js';
import type { AuditOutcome } from './audit-entry.js';
import type { AuditVerifyResult } from './audit-log.js';

export interface AuditMetrics {
  appended(outcome: AuditOutcome): void;
  /** Records a verification's result and passes it through. */
  verified(result: AuditVerifyResult): AuditVerifyResult;
}

/**
 * `audit_entries_total{outcome}`: entries appended; `audit_chain_valid`: 1 when the last
 * verification on this instance found the chain intact, 0 when it found a break (the alert
 * `BulwarkAuditVerificationFailed` reads it); `audit_verifications_total{result}`.
 */
export function auditMetrics(registry: Registry | undefined): AuditMetrics {
  const target = registry ?? defaultMetricsRegistry();
  const appended = counterIn(target, { name: 'audit_entries_total', help: 'Audit log entries appended, by outcome.', labelNames: ['outcome'] });
  const verifications = counterIn(target, { name: 'audit_verifications_total', help: 'Audit chain verifications, by result.', labelNames: ['result'] });
  return {
    appended: (outcome) => appended.inc({ outcome }),
    verified(result) {
      // Registered on the first verification: a gauge that existed before would read 0 ("broken")
      // until then, and the alert on it would fire on every fresh instance.
      gaugeIn(target, { name: 'audit_chain_valid', help: 'Whether the last audit chain verification passed (1) or found a break (0).' }).set(result.ok ? 1 : 0);
      verifications.inc({ result: result.ok ? 'ok' : 'broken' });
      return result;
    },
  };
}
