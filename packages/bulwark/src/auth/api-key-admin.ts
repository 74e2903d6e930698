import type { AuditEntryInput, AuditOutcome } from '../audit/audit-entry.js';
import type { AuditLog } from '../audit/audit-log.js';
import { silentLogger } from '../observability/logger-like.js';
import type { LoggerLike } from '../observability/logger-like.js';
import type { SqlClient } from '../sql/sql-client.js';
import type { CreateApiKeyInput, CreatedApiKey, KeyStore, RevokeApiKeyResult, RotateApiKeyOptions, RotateApiKeyResult } from './key-store.js';
import type { RevocationBus } from './revocation.js';

/** How long a failed change's answer waits for its failure audit entry (which carries on after). */
const FAILURE_AUDIT_WAIT_MS = 1000;

/** Who is acting, for the audit entry. */
export interface AdminContext {
  /** A key id, a user, `cli`. */
  readonly actor: string;
  readonly requestId?: string | undefined;
  readonly clientIp?: string | undefined;
}

export interface ApiKeyAdminOptions {
  readonly store: KeyStore;
  readonly audit: AuditLog;
  /**
   * The database both `store` and `audit` use. With it, each change and its audit entry are written
   * in ONE transaction: both or neither. Without it (memory store and log), they are written one
   * after the other. @default undefined
   */
  readonly sql?: SqlClient | undefined;
  /** Broadcasts rotations and revocations to every verifier after the change commits. @default undefined */
  readonly revocation?: RevocationBus | undefined;
  /** @default silentLogger */
  readonly logger?: LoggerLike | undefined;
}

export interface ApiKeyAdmin {
  /** Creates a key (audited as `api_key.create`); the plain key is in the result, once. */
  create(input: CreateApiKeyInput, context: AdminContext): Promise<CreatedApiKey>;
  /** Rotates a key (audited as `api_key.rotate`) and broadcasts the old key's change. */
  rotate(id: string, options: RotateApiKeyOptions, context: AdminContext): Promise<RotateApiKeyResult>;
  /** Revokes a key and its predecessors in grace (audited as `api_key.revoke`) and broadcasts it. */
  revoke(id: string, context: AdminContext): Promise<RevokeApiKeyResult>;
}

function describeInput(input: CreateApiKeyInput): Record<string, unknown> {
  // Never the key or a signing secret: only what was asked for (and the log's redactor runs on top).
  return {
    name: input.name,
    tenant: input.tenant,
    env: input.env ?? 'live',
    scopes: input.scopes ?? [],
    limits: input.limits ?? [],
    expiresAt: input.expiresAt ?? null,
    signingAlgorithm: input.signing?.algorithm ?? null,
  };
}

/**
 * Key management with an audit trail: every create, rotate and revoke — successful or not — is
 * written to the audit log, in the same transaction as the change when `sql` is given, and
 * rotations and revocations are broadcast to all verifiers once committed.
 *
 * @example
 * const admin = createApiKeyAdmin({ store, audit, sql: db, revocation });
 * const { key } = await admin.create({ name: 'ci', tenant: 'acme', scopes: ['deploy'] }, { actor: 'admin@acme.test', requestId });
 * await admin.revoke(record.id, { actor: 'admin@acme.test' });
 */
export function createApiKeyAdmin(options: ApiKeyAdminOptions): ApiKeyAdmin {
  const { store, audit, sql, revocation } = options;
  if (typeof store?.create !== 'function') throw new TypeError('createApiKeyAdmin: store must be a KeyStore');
  if (typeof audit?.append !== 'function') throw new TypeError('createApiKeyAdmin: audit must be an AuditLog');
  if (sql !== undefined && typeof sql.transaction !== 'function') throw new TypeError('createApiKeyAdmin: sql must be a SqlClient');
  const logger = options.logger ?? silentLogger;

  const inTransaction = <T>(fn: (tx: SqlClient | undefined) => Promise<T>): Promise<T> => (sql === undefined ? fn(undefined) : sql.transaction(fn));
  const entry = (context: AdminContext, action: string, target: string | null, outcome: AuditOutcome, input: unknown): AuditEntryInput => ({
    actor: context.actor,
    action,
    target,
    requestId: context.requestId ?? null,
    clientIp: context.clientIp ?? null,
    outcome,
    input,
  });
  /**
   * Audits a change that threw (its transaction is gone): best effort, never hides the original
   * error, and holds the caller's answer {@link FAILURE_AUDIT_WAIT_MS} at most — the database that
   * just failed may not answer for a while; the entry is still written if it does.
   */
  const auditThrown = async (context: AdminContext, action: string, target: string | null, input: Record<string, unknown>, error: unknown): Promise<void> => {
    const appended = audit.append(entry(context, action, target, 'failure', { ...input, error: error instanceof Error ? error.message : String(error) })).then(
      () => undefined,
      (auditError: unknown) => logger.error({ err: auditError, action }, 'could not audit a failed key change'),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([appended, new Promise<void>((resolve) => (timer = setTimeout(resolve, FAILURE_AUDIT_WAIT_MS)))]);
    clearTimeout(timer);
  };
  const broadcast = async (keyIds: readonly string[]): Promise<void> => {
    if (revocation === undefined || keyIds.length === 0) return;
    try {
      await revocation.publish(keyIds);
    } catch (error) {
      // Committed already; other instances pick the change up when their cache entry expires.
      logger.warn({ err: error, keyIds }, 'could not broadcast a key change; other instances see it within the cache TTL');
    }
  };

  return {
    async create(input, context) {
      const described = describeInput(input);
      try {
        return await inTransaction(async (tx) => {
          const created = await store.create(input, tx);
          await audit.append(entry(context, 'api_key.create', created.record.id, 'success', { ...described, displayPrefix: created.record.displayPrefix }), tx);
          return created;
        });
      } catch (error) {
        await auditThrown(context, 'api_key.create', null, described, error);
        throw error;
      }
    },

    async rotate(id, rotateOptions, context) {
      const described = { graceMs: rotateOptions.graceMs ?? null };
      let result: RotateApiKeyResult;
      try {
        result = await inTransaction(async (tx) => {
          const rotated = await store.rotate(id, rotateOptions, tx);
          const details = rotated.ok ? { ...described, newKeyId: rotated.record.id, graceUntil: rotated.previous.graceUntil } : { ...described, reason: rotated.reason };
          await audit.append(entry(context, 'api_key.rotate', id, rotated.ok ? 'success' : 'failure', details), tx);
          return rotated;
        });
      } catch (error) {
        await auditThrown(context, 'api_key.rotate', id, described, error);
        throw error;
      }
      if (result.ok) await broadcast([id]);
      return result;
    },

    async revoke(id, context) {
      let result: RevokeApiKeyResult;
      try {
        result = await inTransaction(async (tx) => {
          const revoked = await store.revoke(id, tx);
          await audit.append(entry(context, 'api_key.revoke', id, revoked.ok ? 'success' : 'failure', revoked.ok ? { revokedIds: revoked.revokedIds } : { reason: revoked.reason }), tx);
          return revoked;
        });
      } catch (error) {
        await auditThrown(context, 'api_key.revoke', id, {}, error);
        throw error;
      }
      if (result.ok) await broadcast(result.revokedIds);
      return result;
    },
  };
}
