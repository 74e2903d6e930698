import type { AuditLog } from 'bulwark/audit';
import type { LoggerLike } from 'bulwark/observability';

/** How often each instance re-verifies the audit chain. Verification reads the whole chain, so not often. */
export const AUDIT_VERIFY_INTERVAL_MS = 5 * 60_000;

/**
 * Verifies the audit chain at start-up and then every `intervalMs`, so that `audit_chain_valid`
 * (set by every verification) reflects the chain even when nobody calls `POST /admin/audit/verify`,
 * and the `BulwarkAuditVerificationFailed` alert can fire. A broken chain is logged at error level
 * with the first broken entry; a verification that could not run (database down) only at warn.
 * The timer is unref'd and one verification runs at a time. Returns the function that stops it.
 */
export function watchAuditChain(audit: AuditLog, logger: LoggerLike, intervalMs = AUDIT_VERIFY_INTERVAL_MS): () => void {
  let running = false;
  const verifyOnce = (): void => {
    if (running) return;
    running = true;
    audit
      .verify()
      .then((result) => {
        if (!result.ok) logger.error({ brokenAt: result.brokenAt, reason: result.reason }, 'audit chain verification failed: the audit log was edited or truncated');
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'audit chain verification could not run'))
      .finally(() => {
        running = false;
      });
  };
  verifyOnce();
  const timer = setInterval(verifyOnce, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
