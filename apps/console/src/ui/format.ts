import type { ApiKeyRecord } from '../api/types.js';

/** Plain-words formatting of what the admin API returns: times, durations, rates, key status. */

const dateTime = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const dateTimeSeconds = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

function toDate(value: string | number | Date): Date | undefined {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** `12 Mar 2026, 14:05` (with `seconds`: `14:05:09`) in the browser's locale; `—` for null; the raw text when unreadable. */
export function formatDateTime(value: string | number | null | undefined, options: { readonly seconds?: boolean } = {}): string {
  if (value === null || value === undefined) return '—';
  const date = toDate(value);
  if (date === undefined) return String(value);
  return (options.seconds === true ? dateTimeSeconds : dateTime).format(date);
}

/** `14:05:09`. */
export function formatClock(value: string | number | Date): string {
  const date = toDate(value);
  return date === undefined ? String(value) : clock.format(date);
}

/** `850 ms`, `45 s`, `15 min`, `2 h 30 min`, `3 d`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    const rest = minutes % 60;
    return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
  }
  return `${Math.round(hours / 24)} d`;
}

/** `in 15 min`, `3 h ago`, `just now`, relative to `nowMs`. */
export function formatRelative(value: string | number | null | undefined, nowMs: number): string {
  if (value === null || value === undefined) return '—';
  const date = toDate(value);
  if (date === undefined) return String(value);
  const delta = date.getTime() - nowMs;
  if (Math.abs(delta) < 5000) return 'just now';
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`;
}

/** A rate per second with a precision that suits its size: `0`, `0.25`, `3.4`, `120`. */
export function formatRate(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value === 0) return '0';
  if (value < 1) return value.toFixed(2);
  if (value < 10) return value.toFixed(1);
  return Math.round(value).toLocaleString();
}

/** A share as a percentage: `0 %`, `1.5 %`. */
export function formatPercent(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return '—';
  const percent = share * 100;
  return `${percent === 0 ? '0' : percent < 10 ? percent.toFixed(1) : Math.round(percent)} %`;
}

export type KeyStatus = 'active' | 'rotating' | 'revoked' | 'expired';

/**
 * What a key's record says about it at `nowMs`, in the verifier's order: revoked, then expired
 * (past `expiresAt`, or past the grace of a rotation), else `rotating` during a grace period.
 */
export function keyStatus(record: ApiKeyRecord, nowMs: number): KeyStatus {
  if (record.revokedAt !== null) return 'revoked';
  if (record.expiresAt !== null && Date.parse(record.expiresAt) <= nowMs) return 'expired';
  if (record.graceUntil !== null) return Date.parse(record.graceUntil) <= nowMs ? 'expired' : 'rotating';
  return 'active';
}

/** Scopes as typed in a field (`orders:read, orders:write` or one per line) → a list without blanks or repeats. */
export function parseScopes(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter((scope) => scope !== ''))];
}

/** A `datetime-local` value (local time, no zone) → ISO 8601 with offset; `undefined` when empty or invalid. */
export function localInputToIso(value: string): string | undefined {
  if (value.trim() === '') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
