/**
 * Content-Security-Policy violation reports, as browsers POST them to `report-uri`
 * (`application/csp-report`) or to a Reporting API endpoint (`application/reports+json`), turned
 * into short, flat records that are safe to log.
 *
 * The endpoint is unauthenticated by nature, so everything in a report is attacker-controlled: the
 * body is size-, depth- and key-limited, fields are length-capped and stripped of control characters
 * (no forged log lines), URLs lose their query and fragment (tokens in URLs must not reach the logs),
 * and a batch is capped.
 */
import { createJsonParser } from './json-parse.js';
import type { JsonParseErrorCode } from './json-parse.js';
import { integerOption } from './validate.js';

/** One violation, normalised from either format. Every field is optional in practice. */
export interface CspViolation {
  readonly documentUrl?: string;
  readonly referrer?: string;
  readonly blockedUrl?: string;
  readonly effectiveDirective?: string;
  readonly originalPolicy?: string;
  readonly disposition?: string;
  readonly sourceFile?: string;
  readonly lineNumber?: number;
  readonly columnNumber?: number;
  readonly statusCode?: number;
  readonly sample?: string;
  /** Reporting API only. */
  readonly userAgent?: string;
}

export type CspReportParseResult =
  | { readonly ok: true; readonly violations: readonly CspViolation[] }
  | { readonly ok: false; readonly code: JsonParseErrorCode | 'BAD_REQUEST'; readonly detail: string };

export interface CspReportOptions {
  /** Largest accepted body, at most 1 MiB. @default 65536 */
  readonly maxBytes?: number;
  /** Most violations kept from one Reporting API batch (others are dropped). @default 20 */
  readonly maxViolations?: number;
  /** Longest string kept per field (longer ones end in `…`). @default 512 */
  readonly maxFieldLength?: number;
}

const parseReportJson = createJsonParser({ maxBytes: 1024 * 1024, maxDepth: 6, maxKeys: 2000 });

/**
 * Parses a CSP report body of either format (told apart by shape, so a wrong `Content-Type` does not
 * matter). Reports of other types in a Reporting API batch (deprecation, intervention …) are skipped.
 * Never throws on any body; throws a TypeError for out-of-range options.
 *
 * @example
 * const result = parseCspReport(rawBody);
 * if (result.ok) for (const violation of result.violations) logger.warn({ csp: violation }, 'CSP violation');
 */
export function parseCspReport(body: string | Uint8Array, options: CspReportOptions = {}): CspReportParseResult {
  const maxBytes = integerOption('maxBytes', options.maxBytes, 65_536, 1, 1024 * 1024);
  const maxViolations = integerOption('maxViolations', options.maxViolations, 20, 1, 1000);
  const maxFieldLength = integerOption('maxFieldLength', options.maxFieldLength, 512, 16, 65_536);
  // A string is measured in UTF-8 bytes, as the body arrived (one longer than maxBytes code units
  // cannot fit, so it is not measured); anything but a string or bytes is left to the parser to refuse.
  const size = typeof body === 'string' ? (body.length > maxBytes ? body.length : Buffer.byteLength(body)) : body instanceof Uint8Array ? body.byteLength : 0;
  if (size > maxBytes) return { ok: false, code: 'PAYLOAD_TOO_LARGE', detail: `CSP report exceeds ${maxBytes} bytes` };
  const parsed = parseReportJson(body);
  if (!parsed.ok) return parsed;
  const limit = (value: unknown) => field(value, maxFieldLength);
  const value = parsed.value;

  if (Array.isArray(value)) {
    const violations: CspViolation[] = [];
    for (const report of value) {
      if (violations.length >= maxViolations) break;
      if (!isRecord(report) || report.type !== 'csp-violation' || !isRecord(report.body)) continue;
      const b = report.body;
      violations.push(
        compact({
          documentUrl: url(b.documentURL, maxFieldLength),
          referrer: url(b.referrer, maxFieldLength),
          blockedUrl: url(b.blockedURL, maxFieldLength),
          effectiveDirective: limit(b.effectiveDirective),
          originalPolicy: limit(b.originalPolicy),
          disposition: limit(b.disposition),
          sourceFile: url(b.sourceFile, maxFieldLength),
          lineNumber: count(b.lineNumber),
          columnNumber: count(b.columnNumber),
          statusCode: count(b.statusCode),
          sample: limit(b.sample),
          userAgent: limit(report.user_agent),
        }),
      );
    }
    return { ok: true, violations };
  }

  if (isRecord(value) && isRecord(value['csp-report'])) {
    const r = value['csp-report'];
    return {
      ok: true,
      violations: [
        compact({
          documentUrl: url(r['document-uri'], maxFieldLength),
          referrer: url(r.referrer, maxFieldLength),
          blockedUrl: url(r['blocked-uri'], maxFieldLength),
          effectiveDirective: limit(r['effective-directive'] ?? r['violated-directive']),
          originalPolicy: limit(r['original-policy']),
          disposition: limit(r.disposition),
          sourceFile: url(r['source-file'], maxFieldLength),
          lineNumber: count(r['line-number']),
          columnNumber: count(r['column-number']),
          statusCode: count(r['status-code']),
          sample: limit(r['script-sample']),
        }),
      ],
    };
  }
  return { ok: false, code: 'BAD_REQUEST', detail: 'Not a CSP report (expected {"csp-report": …} or a Reporting API array)' };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// C0 and C1 controls, DEL, and the Unicode line/paragraph separators: nothing that can break a log line.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g; // eslint-disable-line no-control-regex

function field(value: unknown, maxLength: number): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  const clean = value.replace(CONTROL, ' ');
  return clean.length > maxLength ? `${clean.slice(0, maxLength - 1)}…` : clean;
}

/** A URL without query and fragment (they carry tokens); keywords such as `inline` or `eval` as they are. */
function url(value: unknown, maxLength: number): string | undefined {
  const text = field(value, Math.max(maxLength * 4, maxLength));
  if (text === undefined) return undefined;
  const cut = text.search(/[?#]/);
  return field(cut === -1 ? text : `${text.slice(0, cut)}${text[cut] === '?' ? '?…' : '#…'}`, maxLength);
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** Drops undefined fields so that log lines stay short (and `exactOptionalPropertyTypes` holds). */
function compact(record: Record<string, string | number | undefined>): CspViolation {
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value;
  return out as CspViolation;
}
