import { AUDIT_GENESIS_HASH, entryHash, prepareEntry, toEntry } from './audit-entry.js';
import type { AuditRow } from './audit-entry.js';
import { verifyChain } from './audit-chain.js';
import { encodeAuditCursor, resolveAuditOptions, resolveAuditQuery } from './audit-log.js';
import type { AuditLog, AuditLogOptions } from './audit-log.js';
import { auditMetrics } from './audit-metrics.js';

/**
 * Where a memory audit log keeps its chain. Create one with {@link createMemoryAuditStorage} to
 * share it between several logs (instances in one test) or to inspect it.
 */
export interface MemoryAuditStorage {
  readonly rows: AuditRow[];
  head: { lastId: number; lastHash: string };
}

export function createMemoryAuditStorage(): MemoryAuditStorage {
  return { rows: [], head: { lastId: 0, lastHash: AUDIT_GENESIS_HASH } };
}

export interface MemoryAuditLogOptions extends AuditLogOptions {
  /** @default a new, private storage */
  readonly storage?: MemoryAuditStorage | undefined;
  /** Most entries held; appending beyond throws (an audit log never drops entries silently). @default 100_000 */
  readonly maxEntries?: number | undefined;
}

/**
 * An {@link AuditLog} in process memory: for tests and single-instance development. Same chain, same
 * verification as the SQL log; everything is lost on restart. The `tx` argument of `append` is
 * ignored (there is no transaction to join).
 *
 * @example
 * const audit = createMemoryAuditLog({ chainKey: keyring.subkey('audit-chain'), redact });
 */
export function createMemoryAuditLog(options: MemoryAuditLogOptions): AuditLog {
  const resolved = resolveAuditOptions(options, 'createMemoryAuditLog');
  const storage = options.storage ?? createMemoryAuditStorage();
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new TypeError('createMemoryAuditLog: maxEntries must be a positive integer');
  const metrics = auditMetrics(options.registry);

  return {
    async append(input) {
      const prepared = prepareEntry(input, resolved.redact, resolved.maxInputBytes);
      if (storage.rows.length >= maxEntries) throw new RangeError(`createMemoryAuditLog: the log is full (maxEntries ${maxEntries})`);
      // No await between reading the head and writing it: appends are atomic on the event loop.
      const content = { ...prepared, id: storage.head.lastId + 1, at: new Date(resolved.now()), prevHash: storage.head.lastHash };
      const row: AuditRow = Object.freeze({ ...content, hash: entryHash(resolved.chainKey, content) });
      storage.rows.push(row);
      storage.head = { lastId: row.id, lastHash: row.hash };
      metrics.appended(row.outcome);
      return toEntry(row);
    },

    verify() {
      return verifyChain(
        {
          head: async () => ({ ...storage.head }),
          page: async (afterId, upToId, limit) =>
            storage.rows
              .filter((row) => row.id > afterId && row.id <= upToId)
              .sort((a, b) => a.id - b.id)
              .slice(0, limit),
        },
        resolved.verifyKeys,
      ).then(metrics.verified);
    },

    async query(query) {
      const q = resolveAuditQuery(query);
      const matching = storage.rows
        .filter(
          (row) =>
            (q.action === undefined || row.action === q.action) &&
            (q.actor === undefined || row.actor === q.actor) &&
            (q.target === undefined || row.target === q.target) &&
            (q.outcome === undefined || row.outcome === q.outcome) &&
            (q.since === undefined || row.at.getTime() >= q.since.getTime()) &&
            (q.until === undefined || row.at.getTime() < q.until.getTime()) &&
            (q.beforeId === undefined || row.id < q.beforeId),
        )
        .sort((a, b) => b.id - a.id);
      const entries = matching.slice(0, q.limit).map(toEntry);
      const last = entries.at(-1);
      return { entries, nextCursor: matching.length > q.limit && last !== undefined ? encodeAuditCursor(last.id) : undefined };
    },

    async head() {
      return { id: storage.head.lastId, hash: storage.head.lastHash };
    },
  };
}
