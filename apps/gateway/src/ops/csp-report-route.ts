import { ApiError } from 'bulwark/errors';
import { parseCspReport } from 'bulwark/http';
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
 * by bulwark/http's `parseCspReport` (both report formats, fields cut to length), rate limited per
 * client IP, and logged as one warning per violation with the fields that matter — never the whole
 * report, which can carry URLs with tokens (the redacting logger scrubs those too).
 */
export function cspReportRoute(options: CspReportOptions): BuiltinRegistrar {
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
        const result = parseCspReport(await readBody(request.raw, MAX_REPORT_BYTES), { maxBytes: MAX_REPORT_BYTES });
        if (!result.ok) throw new ApiError(result.code, { detail: result.detail });
        for (const violation of result.violations) {
          options.logger.warn({ cspReport: { directive: violation.effectiveDirective, blockedUrl: violation.blockedUrl, documentUrl: violation.documentUrl, disposition: violation.disposition }, clientIp: peer.clientIp }, 'content security policy violation');
        }
        reply.code(204);
        return reply.send();
      }),
    );
  };
}
