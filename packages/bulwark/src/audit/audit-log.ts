import type { Registry } from 'prom-client';
import type { SqlClient } from '../sql/sql-client.js';
import type { LoggerLike } from '../observability/logger-like.js';
import type { AuditEntry, AuditEntryInput, AuditOutcome } from './audit-entry.js';

export interface AuditQuery {
  readonly action?: string | undefined;
  readonly actor?: string | undefined;
  readonly target?: string | undefined;
  readonly outcome?: AuditOutcome | undefined;
  /** Entries at or after this instant. */
  readonly since?: Date | undefined;
  /** Entries before this instant. */
  readonly until?: Date | undefined;
  /** 1–1000. @default 100 */
  readonly limit?: number | undefined;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string | undefined;
}

export interface AuditPage {
  /** Newest first. */
  readonly entries: readonly AuditEntry[];
  readonly nextCursor: string | undefined;
}

export type AuditVerifyResult =
  | { readonly ok: true; readonly count: number }
  | {
      readonly ok: false;
      /** The id of the first entry that is wrong or missing. */
      readonly brokenAt: number;
      /**
       * `hash_mismatch`: the entry's content does not match its hash (edited); `prev_mismatch`: its
       * `prevHash` is not the previous entry's hash (edited or re-ordered); `missing_entry`: an id is
       * absent (deleted), including at the end of the chain.
       */
      readonly reason: 'hash_mismatch' | 'missing_entry' | 'prev_mismatch';
    };

/** The last entry, for anchoring the chain outside the database (see docs/audit.md). */
export interface AuditHead {
  readonly id: number;
  readonly hash: string;
}

/**
 * A tamper-evident, append-only log of security-relevant actions: each entry's HMAC covers the
 * previous entry's hash, so editing, re-ordering or deleting an entry breaks the chain from there.
 */
export interface AuditLog {
  /**
   * Appends an entry. With `tx` (SQL logs), the entry is written inside the caller's transaction:
   * it commits or rolls back with the change it records. Appends are serialised across instances.
   * @throws TypeError on an invalid entry.
   */
  append(entry: AuditEntryInput, tx?: SqlClient): Promise<AuditEntry>;
  /** Re-computes the whole chain, page by page. */
  verify(): Promise<AuditVerifyResult>;
  query(query?: AuditQuery): Promise<AuditPage>;
  head(): Promise<AuditHead>;
}

/** An SQL audit log: also runs work and its audit entries in one transaction. */
export interface SqlAuditLog extends AuditLog {
  /**
   * Runs `fn` in a transaction of the log's database; pass `tx` to `append` and to the other
   * writes so they commit together.
   *
   * @example
   * await audit.withTransaction(async (tx) => {
   *   await store.revoke(id, tx);
   *   await audit.append({ actor, action: 'api_key.revoke', target: id, outcome: 'success' }, tx);
   * });
   */
  withTransaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
}

export interface AuditLogOptions {
  /** HMAC key of the chain, ≥ 32 bytes: `keyring.subkey('audit-chain')`. */
  readonly chainKey: Buffer;
  /**
   * Keys of earlier master keys, tried when verifying entries written before a rotation
   * (`keyring.previousSubkey('audit-chain')`). @default []
   */
  readonly previousChainKeys?: readonly Buffer[] | undefined;
  /**
   * Applied to every entry's `input` before it is hashed or stored (e.g. the observability
   * module's redactor). Required: an audit log must not become a store of secrets.
   */
  readonly redact: (value: unknown) => unknown;
  /** Inputs whose canonical JSON exceeds this are replaced by `{ truncated: true, bytes }`. @default 16384 */
  readonly maxInputBytes?: number | undefined;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: (() => number) | undefined;
  /** @default defaultMetricsRegistry() */
  readonly registry?: Registry | undefined;
  /** @default silentLogger */
  readonly logger?: LoggerLike | undefined;
}

export interface ResolvedAuditOptions {
  readonly chainKey: Buffer;
  readonly verifyKeys: readonly Buffer[];
  readonly redact: (value: unknown) => unknown;
  readonly maxInputBytes: number;
  readonly now: () => number;
}

function checkKey(value: unknown, option: string): Buffer {
  if (!Buffer.isBuffer(value) || value.length < 32) throw new TypeError(`${option} must be a Buffer of at least 32 bytes (keyring.subkey('audit-chain'))`);
  return Buffer.from(value);
}

export function resolveAuditOptions(options: AuditLogOptions, factory: string): ResolvedAuditOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${factory}: options must be an object`);
  const chainKey = checkKey(options.chainKey, `${factory}: chainKey`);
  const previous = (options.previousChainKeys ?? []).map((key, index) => checkKey(key, `${factory}: previousChainKeys[${index}]`));
  if (typeof options.redact !== 'function') throw new TypeError(`${factory}: redact must be a function (value) => redacted value`);
  const maxInputBytes = options.maxInputBytes ?? 16_384;
  if (!Number.isSafeInteger(maxInputBytes) || maxInputBytes < 64 || maxInputBytes > 1_048_576) {
    throw new TypeError(`${factory}: maxInputBytes must be an integer from 64 to 1048576`);
  }
  const now = options.now ?? Date.now;
  return { chainKey, verifyKeys: [chainKey, ...previous], redact: options.redact, maxInputBytes, now };
}

/** The part of a `bulwark/crypto` keyring the audit log needs. */
export interface AuditKeySource {
  subkey(purpose: 'audit-chain'): Buffer;
  previousSubkey(purpose: 'audit-chain'): Buffer | undefined;
}

/**
 * The chain keys from a keyring, to spread into the options.
 * @example createSqlAuditLog({ sql, ...auditChainKeys(keyring), redact })
 */
export function auditChainKeys(keyring: AuditKeySource): { chainKey: Buffer; previousChainKeys: readonly Buffer[] } {
  const previous = keyring.previousSubkey('audit-chain');
  return { chainKey: keyring.subkey('audit-chain'), previousChainKeys: previous === undefined ? [] : [previous] };
}

export interface ResolvedAuditQuery {
  readonly action: string | undefined;
  readonly actor: string | undefined;
  readonly target: string | undefined;
  readonly outcome: AuditOutcome | undefined;
  readonly since: Date | undefined;
  readonly until: Date | undefined;
  readonly limit: number;
  /** Only entries with a smaller id (the cursor is the last id of the previous page). */
  readonly beforeId: number | undefined;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > 500) throw new TypeError(`audit query: ${name} must be a string of at most 500 characters`);
  return value;
}

/**
 * Years 1–9999: JavaScript dates reach ±275760, PostgreSQL timestamps (and their drivers) do not —
 * past that a filter failed in the database, which callers read as the database being down.
 */
const EARLIEST_DATE_MS = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST_DATE_MS = Date.parse('9999-12-31T23:59:59.999Z');

function optionalDate(value: unknown, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!(ms >= EARLIEST_DATE_MS && ms <= LATEST_DATE_MS)) throw new TypeError(`audit query: ${name} must be a valid Date in the years 1 to 9999`);
  return value as Date;
}

export function encodeAuditCursor(id: number): string {
  return Buffer.from(`a:${id}`, 'utf8').toString('base64url');
}

/** @throws TypeError on an invalid filter or a cursor that is not one of ours. */
export function resolveAuditQuery(query: AuditQuery = {}): ResolvedAuditQuery {
  const limit = query.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new TypeError('audit query: limit must be an integer from 1 to 1000');
  const outcome = query.outcome;
  if (outcome !== undefined && outcome !== 'success' && outcome !== 'failure' && outcome !== 'denied') {
    throw new TypeError("audit query: outcome must be 'success', 'failure' or 'denied'");
  }
  let beforeId: number | undefined;
  if (query.cursor !== undefined) {
    const match = typeof query.cursor === 'string' && query.cursor.length <= 40 ? /^a:([1-9][0-9]{0,15})$/.exec(Buffer.from(query.cursor, 'base64url').toString('utf8')) : null;
    const id = match?.[1] === undefined ? Number.NaN : Number(match[1]);
    if (!Number.isSafeInteger(id)) throw new TypeError('audit query: cursor is not a cursor returned by query');
    beforeId = id;
  }
  return {
    action: optionalString(query.action, 'action'),
    actor: optionalString(query.actor, 'actor'),
    target: optionalString(query.target, 'target'),
    outcome,
    since: optionalDate(query.since, 'since'),
    until: optionalDate(query.until, 'until'),
    limit,
    beforeId,
  };
}
