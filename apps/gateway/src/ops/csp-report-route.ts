import { ApiError } from 'bulwark/errors';
import { createJsonParser } from 'bulwark/http';
import type { LoggerLike } from 'bulwark/observability';
import { isJson } from '../pipeline/body.js';
import { readBody } from '../pipeline/read-body.js';
import type { BuiltinRegistrar } from '../server/build-server.js';

/** CSP reports are small; anything larger is not a report. */
const MAX_REPORT_BYTES = 16 * 1024;
const REPORT_TYPES = new Set(['application/csp-report', 'application/reports+json']);

export interface CspReportOptions {
  readonly path: string;
  readonly logger: LoggerLike;
  /** Whether this client may send another report now (a per-IP limit); refusals are 429. */
  allow(clientIp: string): boolean | Promise<boolean>;
}

/**
 * `POST /csp-report`: public (browsers send reports without credentials), bounded to 16 KiB, parsed
 * safely, rate limited per client IP, and logged as one warning with the few fields that matter —
 * never the whole report, which can carry URLs with tokens (the redacting logger scrubs those too).
 */
export function cspReportRoute(options: CspReportOptions): BuiltinRegistrar {
  const parse = createJsonParser({ maxBytes: MAX_REPORT_BYTES, maxDepth: 8, maxKeys: 200 });
  return (server, builtin) => {
    server.post(
      options.path,
      builtin('csp-report', async ({ request, reply, peer }) => {
        const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        if (!REPORT_TYPES.has(type) && !isJson(type)) {
          throw new ApiError('UNSUPPORTED_MEDIA_TYPE', { detail: 'CSP reports are application/csp-report or application/reports+json.' });
        }
        if (!(await options.allow(peer.clientIp))) {
          throw new ApiError('RATE_LIMITED', { detail: 'Too many CSP reports from this client.', headers: { 'retry-after': '60' } });
        }
        const result = parse(await readBody(request.raw, MAX_REPORT_BYTES));
        if (!result.ok) throw new ApiError(result.code, { detail: result.detail });
        for (const report of reportsOf(result.value)) options.logger.warn({ cspReport: report, clientIp: peer.clientIp }, 'content security policy violation');
        reply.code(204);
        return reply.send();
      }),
    );
  };
}

interface ReportSummary {
  readonly directive: string | undefined;
  readonly blockedUri: string | undefined;
  readonly documentUri: string | undefined;
}

/** The `csp-report` object of the legacy format, or the bodies of a Reporting API batch. */
function reportsOf(value: unknown): ReportSummary[] {
  const bodies: unknown[] = Array.isArray(value) ? value.slice(0, 20).map((entry) => field(entry, 'body')) : [field(value, 'csp-report')];
  return bodies.filter((body) => body !== undefined).map((body) => ({
    directive: text(field(body, 'violated-directive') ?? field(body, 'effectiveDirective') ?? field(body, 'effective-directive')),
    blockedUri: text(field(body, 'blocked-uri') ?? field(body, 'blockedURL')),
    documentUri: text(field(body, 'document-uri') ?? field(body, 'documentURL')),
  }));
}

function field(value: unknown, name: string): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return Object.prototype.hasOwnProperty.call(value, name) ? (value as Record<string, unknown>)[name] : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, 512) : undefined;
}
