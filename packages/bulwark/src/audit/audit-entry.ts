import { createHmac } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/** What happened, from the acting side: `success`, `failure` (it went wrong) or `denied` (not allowed). */
export type AuditOutcome = 'success' | 'failure' | 'denied';

/** An entry as the caller writes it; `id`, `at` and the hashes are added by the log. */
export interface AuditEntryInput {
  /** Who acted: a key id, a user, `system`. Cut to 200 characters. */
  readonly actor: string;
  /** What was done, `[a-z][a-z0-9_.:-]{0,99}`: `api_key.create`, `config.reload`. */
  readonly action: string;
  /** What it was done to (a key id, a route). Cut to 500 characters. @default null */
  readonly target?: string | null | undefined;
  /** The request's id, to join with access logs. Cut to 128 characters. @default null */
  readonly requestId?: string | null | undefined;
  /** The client address. Cut to 64 characters. @default null */
  readonly clientIp?: string | null | undefined;
  readonly outcome: AuditOutcome;
  /** Parameters of the action. Passed through the log's `redact` function before anything else sees it. @default null */
  readonly input?: unknown | undefined;
}

/** A stored entry. */
export interface AuditEntry {
  /** 1, 2, 3…: gap-free, so a deleted entry shows as a missing number. */
  readonly id: number;
  readonly at: Date;
  readonly actor: string;
  readonly action: string;
  readonly target: string | null;
  readonly requestId: string | null;
  readonly clientIp: string | null;
  readonly outcome: AuditOutcome;
  /** The redacted input (parsed back from its stored canonical JSON), or `null`. */
  readonly input: unknown;
  /** `hash` of the previous entry; {@link AUDIT_GENESIS_HASH} for the first. */
  readonly prevHash: string;
  /** HMAC-SHA256 over this entry's canonical JSON including `prevHash`, hex. */
  readonly hash: string;
}

/** An entry as persisted: `input` kept as the exact canonical text that was hashed. */
export interface AuditRow extends Omit<AuditEntry, 'input'> {
  readonly inputJson: string | null;
}

/** The `prevHash` of entry 1. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

const ACTION = /^[a-z][a-z0-9_.:-]{0,99}$/;
const OUTCOMES: ReadonlySet<string> = new Set(['success', 'failure', 'denied']);
/** Domain separation: this HMAC key is used for nothing else, but the prefix makes misuse impossible by construction. */
const HASH_DOMAIN = 'bulwark/audit/v1\n';

export interface PreparedEntry {
  readonly actor: string;
  readonly action: string;
  readonly target: string | null;
  readonly requestId: string | null;
  readonly clientIp: string | null;
  readonly outcome: AuditOutcome;
  readonly inputJson: string | null;
}

function cut(value: unknown, max: number, name: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new TypeError(`audit entry: ${name} must be a string or null`);
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

/**
 * Validates an entry and turns its input into redacted canonical JSON (or a marker when too large).
 * @throws TypeError when `action` or `outcome` is invalid, or the input is not JSON-serialisable.
 */
export function prepareEntry(input: AuditEntryInput, redact: (value: unknown) => unknown, maxInputBytes: number): PreparedEntry {
  if (typeof input !== 'object' || input === null) throw new TypeError('audit entry must be an object');
  if (typeof input.action !== 'string' || !ACTION.test(input.action)) throw new TypeError(`audit entry: action must match ${ACTION.source}`);
  if (typeof input.outcome !== 'string' || !OUTCOMES.has(input.outcome)) throw new TypeError("audit entry: outcome must be 'success', 'failure' or 'denied'");
  const actor = cut(input.actor, 200, 'actor');
  if (actor === null || actor === '') throw new TypeError('audit entry: actor is required');
  let inputJson: string | null = null;
  if (input.input !== undefined && input.input !== null) {
    const json = canonicalJson(redact(input.input)) ?? null;
    inputJson = json !== null && Buffer.byteLength(json, 'utf8') > maxInputBytes ? canonicalJson({ truncated: true, bytes: Buffer.byteLength(json, 'utf8') }) ?? null : json;
  }
  return {
    actor,
    action: input.action,
    target: cut(input.target, 500, 'target'),
    requestId: cut(input.requestId, 128, 'requestId'),
    clientIp: cut(input.clientIp, 64, 'clientIp'),
    outcome: input.outcome as AuditOutcome,
    inputJson,
  };
}

/** The chain hash of a row: HMAC-SHA256(key, domain ‖ canonical JSON of every field but `hash`). */
export function entryHash(key: Buffer, row: Omit<AuditRow, 'hash'>): string {
  const canonical = canonicalJson({
    id: row.id,
    at: row.at.toISOString(),
    actor: row.actor,
    action: row.action,
    target: row.target,
    requestId: row.requestId,
    clientIp: row.clientIp,
    outcome: row.outcome,
    input: row.inputJson,
    prevHash: row.prevHash,
  });
  return createHmac('sha256', key).update(HASH_DOMAIN).update(canonical ?? '').digest('hex');
}

/** The public entry of a row (input parsed back). */
export function toEntry(row: AuditRow): AuditEntry {
  let input: unknown = null;
  if (row.inputJson !== null) {
    try {
      input = JSON.parse(row.inputJson);
    } catch {
      input = { unreadable: true };
    }
  }
  const { inputJson: _omitted, ...rest } = row;
  return Object.freeze({ ...rest, input });
}
