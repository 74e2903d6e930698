import { safeEqual } from '../auth/safe-equal.js';
import { AUDIT_GENESIS_HASH, entryHash } from './audit-entry.js';
import type { AuditRow } from './audit-entry.js';
import type { AuditVerifyResult } from './audit-log.js';

/** Rows per page when verifying: bounded memory whatever the length of the log. */
export const VERIFY_PAGE_SIZE = 500;

export interface ChainSource {
  /** The head as recorded (read once, first: entries appended during the walk are not checked). */
  head(): Promise<{ readonly lastId: number; readonly lastHash: string }>;
  /** Rows with `id > afterId` and `id <= upToId`, ascending, at most `limit`. */
  page(afterId: number, upToId: number, limit: number): Promise<readonly AuditRow[]>;
}

/**
 * Walks the chain from entry 1 to the recorded head and reports the first break: an id that is
 * not the next number (a deleted entry), a `prevHash` that is not the previous hash (an edited or
 * re-ordered link), or a hash that does not match the content under any of `keys` (an edited entry).
 * The head itself is checked last, so deleting the newest entries is caught too. (Deleting entries
 * AND rewriting the head row cannot be detected from inside the database: anchor `head()` outside
 * it — see docs/audit.md.)
 */
export async function verifyChain(source: ChainSource, keys: readonly Buffer[]): Promise<AuditVerifyResult> {
  const head = await source.head();
  let expectedId = 1;
  let previousHash = AUDIT_GENESIS_HASH;
  for (;;) {
    const rows = await source.page(expectedId - 1, head.lastId, VERIFY_PAGE_SIZE);
    for (const row of rows) {
      if (row.id !== expectedId) return { ok: false, brokenAt: expectedId, reason: 'missing_entry' };
      if (!safeEqual(row.prevHash, previousHash)) return { ok: false, brokenAt: row.id, reason: 'prev_mismatch' };
      const { hash, ...content } = row;
      if (!keys.some((key) => safeEqual(entryHash(key, content), hash))) return { ok: false, brokenAt: row.id, reason: 'hash_mismatch' };
      previousHash = hash;
      expectedId += 1;
    }
    if (rows.length < VERIFY_PAGE_SIZE) break;
  }
  if (expectedId - 1 !== head.lastId) return { ok: false, brokenAt: expectedId, reason: 'missing_entry' };
  if (!safeEqual(previousHash, head.lastHash)) return { ok: false, brokenAt: head.lastId, reason: 'hash_mismatch' };
  return { ok: true, count: head.lastId };
}
