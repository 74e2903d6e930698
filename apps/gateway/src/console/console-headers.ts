import type { ServerResponse } from 'node:http';
import { buildSecurityHeaders } from 'bulwark/http';

/**
 * The headers of every console response, built once by bulwark/http's `buildSecurityHeaders` (the
 * gateway's own machinery): a CSP (reporting to the gateway's CSP report endpoint through
 * `report-uri` and the Reporting API) that lets the page load its own scripts, styles, images and fonts
 * and talk to its own origin, and nothing else — no 'unsafe-inline', no 'unsafe-eval', so an
 * injected inline script does not run — plus nosniff, no referrer and no framing. These replace the
 * gateway's API policy (`default-src 'none'`), under which the page could not load at all.
 */
export type ConsoleHeaders = readonly (readonly [name: string, value: string])[];

/** The headers the console sets, whatever `securityHeaders` says for the API. */
const CONSOLE_HEADER_NAMES = ['content-security-policy', 'reporting-endpoints', 'x-content-type-options', 'referrer-policy', 'x-frame-options'];

export function buildConsoleHeaders(cspReportPath: string): ConsoleHeaders {
  const headers = buildSecurityHeaders({
    contentSecurityPolicy: {
      reportUri: cspReportPath,
      directives: {
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'font-src': ["'self'"],
        'connect-src': ["'self'"],
      },
    },
    frameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
  });
  const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return Object.freeze(CONSOLE_HEADER_NAMES.map((name) => Object.freeze([name, lower[name] ?? ''] as const)).filter(([, value]) => value !== ''));
}

/**
 * Puts the console's headers on a response (over the gateway's, set before the handler ran). A
 * report-only API policy from `securityHeaders` is removed: it would report every script the page loads.
 */
export function applyConsoleHeaders(response: ServerResponse, headers: ConsoleHeaders): void {
  for (const [name, value] of headers) response.setHeader(name, value);
  response.removeHeader('content-security-policy-report-only');
}
