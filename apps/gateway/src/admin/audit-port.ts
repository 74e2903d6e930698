import type { SqlClient } from 'bulwark/sql';

/**
 * What the admin API needs from the tamper-evident audit log (bulwark's `SqlAuditLog`, which
 * satisfies it as it is): appends inside the transaction of the change they record, queries and
 * chain verification.
 */
export interface AuditPort {
  append(entry: AuditInput, tx?: SqlClient): Promise<unknown>;
  withTransaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  verify(): Promise<{ readonly ok: true; readonly count: number } | { readonly ok: false; readonly brokenAt: number; readonly reason: string }>;
  query(query?: AuditQueryInput): Promise<{ readonly entries: readonly unknown[]; readonly nextCursor: string | undefined }>;
}

export interface AuditInput {
  readonly actor: string;
  readonly action: string;
  readonly target?: string | null;
  readonly requestId?: string | null;
  readonly clientIp?: string | null;
  readonly outcome: 'success' | 'failure' | 'denied';
  readonly input?: unknown;
}

export interface AuditQueryInput {
  readonly action?: string;
  readonly actor?: string;
  readonly target?: string;
  readonly outcome?: 'success' | 'failure' | 'denied';
  readonly since?: Date;
  readonly until?: Date;
  readonly limit?: number;
  readonly cursor?: string;
}
