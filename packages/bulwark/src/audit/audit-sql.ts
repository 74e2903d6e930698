import type { SqlClient, SqlValue } from '../sql/sql-client.js';
import { entryHash, prepareEntry, toEntry } from './audit-entry.js';
import type { AuditOutcome, AuditRow } from './audit-entry.js';
import { verifyChain } from './audit-chain.js';
import { encodeAuditCursor, resolveAuditOptions, resolveAuditQuery } from './audit-log.js';
import type { AuditLogOptions, SqlAuditLog } from './audit-log.js';
import { auditMetrics } from './audit-metrics.js';

export interface SqlAuditLogOptions extends AuditLogOptions {
  /** A migrated database (`openDatabase`): PostgreSQL or PGlite. */
  readonly sql: SqlClient;
}

interface DbRow {
  id: string | number;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  request_id: string | null;
  client_ip: string | null;
  outcome: AuditOutcome;
  input: string | null;
  prev_hash: string;
  hash: string;
}

const COLUMNS = 'id, at, actor, action, target, request_id, client_ip, outcome, input, prev_hash, hash';
const CHAIN = 'main';

async function readHead(sql: SqlClient): Promise<{ lastId: number; lastHash: string }> {
  const { rows } = await sql.query<{ last_id: string | number; last_hash: string }>('SELECT last_id, last_hash FROM bulwark_audit_head WHERE chain = $1', [CHAIN]);
  const head = rows[0];
  if (head === undefined) throw new Error('the audit chain head row is missing: the audit log table was tampered with or not migrated');
  return { lastId: Number(head.last_id), lastHash: head.last_hash };
}

function fromDb(row: DbRow): AuditRow {
  return {
    id: Number(row.id),
    at: row.at,
    actor: row.actor,
    action: row.action,
    target: row.target,
    requestId: row.request_id,
    clientIp: row.client_ip,
    outcome: row.outcome,
    inputJson: row.input,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * An {@link SqlAuditLog} in `bulwark_audit_log` (migration 2), on PostgreSQL or PGlite.
 *
 * Appends lock the chain's head row (`SELECT … FOR UPDATE` on `bulwark_audit_head`), take the next
 * id from it and move it on, all in one transaction: concurrent appends from any number of
 * instances form one chain with gap-free ids, and an append inside a caller's transaction commits
 * or disappears with it. (The lock is held until that transaction ends: keep such transactions short.)
 *
 * @example
 * const audit = createSqlAuditLog({ sql: db, ...auditChainKeys(keyring), redact: createRedactor() });
 * await audit.append({ actor: 'admin@example.com', action: 'config.reload', outcome: 'success', requestId });
 */
export function createSqlAuditLog(options: SqlAuditLogOptions): SqlAuditLog {
  const resolved = resolveAuditOptions(options, 'createSqlAuditLog');
  const { sql } = options;
  if (typeof sql?.query !== 'function' || typeof sql.transaction !== 'function') throw new TypeError('createSqlAuditLog: sql must be a SqlClient (openDatabase)');
  const metrics = auditMetrics(options.registry);

  return {
    async append(input, tx) {
      const prepared = prepareEntry(input, resolved.redact, resolved.maxInputBytes);
      const row = await (tx ?? sql).transaction(async (client) => {
        const { rows } = await client.query<{ last_id: string | number; last_hash: string }>('SELECT last_id, last_hash FROM bulwark_audit_head WHERE chain = $1 FOR UPDATE', [CHAIN]);
        const head = rows[0];
        if (head === undefined) throw new Error('the audit chain head row is missing: the audit log table was tampered with or not migrated');
        const content = { ...prepared, id: Number(head.last_id) + 1, at: new Date(resolved.now()), prevHash: head.last_hash };
        const stored: AuditRow = { ...content, hash: entryHash(resolved.chainKey, content) };
        const values: SqlValue[] = [stored.id, stored.at, stored.actor, stored.action, stored.target, stored.requestId, stored.clientIp, stored.outcome, stored.inputJson, stored.prevHash, stored.hash];
        await client.query(`INSERT INTO bulwark_audit_log (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, values);
        await client.query('UPDATE bulwark_audit_head SET last_id = $2, last_hash = $3 WHERE chain = $1', [CHAIN, stored.id, stored.hash]);
        return stored;
      });
      metrics.appended(row.outcome);
      return toEntry(row);
    },

    verify() {
      return verifyChain(
        {
          head: () => readHead(sql),
          async page(afterId, upToId, limit) {
            const { rows } = await sql.query<DbRow>(`SELECT ${COLUMNS} FROM bulwark_audit_log WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3`, [afterId, upToId, limit]);
            return rows.map(fromDb);
          },
        },
        resolved.verifyKeys,
      ).then(metrics.verified);
    },

    async query(query) {
      const q = resolveAuditQuery(query);
      const where: string[] = [];
      const params: SqlValue[] = [];
      const add = (clause: (placeholder: string) => string, value: SqlValue): void => {
        params.push(value);
        where.push(clause(`$${params.length}`));
      };
      if (q.action !== undefined) add((p) => `action = ${p}`, q.action);
      if (q.actor !== undefined) add((p) => `actor = ${p}`, q.actor);
      if (q.target !== undefined) add((p) => `target = ${p}`, q.target);
      if (q.outcome !== undefined) add((p) => `outcome = ${p}`, q.outcome);
      if (q.since !== undefined) add((p) => `at >= ${p}`, q.since);
      if (q.until !== undefined) add((p) => `at < ${p}`, q.until);
      if (q.beforeId !== undefined) add((p) => `id < ${p}`, q.beforeId);
      params.push(q.limit + 1);
      const { rows } = await sql.query<DbRow>(
        `SELECT ${COLUMNS} FROM bulwark_audit_log ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY id DESC LIMIT $${params.length}`,
        params,
      );
      const entries = rows.slice(0, q.limit).map((row) => toEntry(fromDb(row)));
      const last = entries.at(-1);
      return { entries, nextCursor: rows.length > q.limit && last !== undefined ? encodeAuditCursor(last.id) : undefined };
    },

    async head() {
      const { lastId, lastHash } = await readHead(sql);
      return { id: lastId, hash: lastHash };
    },

    withTransaction: (fn) => sql.transaction(fn),
  };
}
