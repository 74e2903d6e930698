import type { Registry } from 'prom-client';
import { counterIn, defaultMetricsRegistry } from '../observability/metrics-registry.js';
import type { AuditOutcome } from './audit-entry.js';

/** `audit_entries_total{outcome}`: entries appended. */
export function auditMetrics(registry: Registry | undefined): { appended(outcome: AuditOutcome): void } {
  const counter = counterIn(registry ?? defaultMetricsRegistry(), { name: 'audit_entries_total', help: 'Audit log entries appended, by outcome.', labelNames: ['outcome'] });
  return { appended: (outcome) => counter.inc({ outcome }) };
}
