/**
 * Redacting logger vs plain pino: what does any-depth, case-insensitive key redaction plus value
 * scrubbing cost on a realistic request log? Target: Bulwark within 1.2x of plain pino (≥ 0.83×
 * its throughput). pino with its built-in path `redact` is the second peer: it is what a team would
 * otherwise configure, though it only knows the paths it is given.
 *
 *   npm run bench -- logger
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createLogger } from 'bulwark/observability';
import { machineLine, measure, table, versionOf } from './support/report.js';

/** A sink that drops every line, so the figures are the logger's own cost, not the disk's. */
function sink(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

/** A realistic access-log record: 20 fields, one nested headers object with a bearer token. */
function requestLog(sequence: number): Record<string, unknown> {
  return {
    method: 'POST',
    url: '/v1/orders/8f14e45f/items?expand=product&limit=20',
    route: '/v1/orders/:orderId/items',
    status: 201,
    durationMs: 12.7 + (sequence % 7),
    requestId: '01964f2c-7b0e-7c3a-9f5e-3d2a1b0c9d8e',
    ip: '203.0.113.42',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
    keyId: 'key_2xY7pQ9r',
    tenant: 'acme-corp',
    bytesIn: 1834,
    bytesOut: 412,
    upstream: 'orders-service',
    upstreamStatus: 201,
    cache: 'MISS',
    retries: 0,
    breaker: 'closed',
    rateLimitRemaining: 97,
    protocol: 'HTTP/1.1',
    headers: {
      host: 'api.example.com',
      'content-type': 'application/json',
      'content-length': '1834',
      accept: 'application/json',
      authorization: 'Bearer 7f3c9a1e5b2d8f4a6c0e9b7d5f3a1c8e',
      'x-request-id': '01964f2c-7b0e-7c3a-9f5e-3d2a1b0c9d8e',
    },
  };
}

const plain = pino({ level: 'info' }, sink());
const pinoRedact = pino({ level: 'info', redact: { paths: ['headers.authorization', 'headers.cookie', 'headers["x-api-key"]', 'password', '*.password'] } }, sink());
const bulwark = createLogger({ level: 'info', destination: sink() });

// One record per task call, as in production: a fresh object every time (redactors that cache by
// object identity would otherwise look faster than they are).
let sequence = 0;
const rows = await measure(
  {
    'pino (no redaction)': () => plain.info(requestLog(sequence++), 'request completed'),
    'pino + redact paths': () => pinoRedact.info(requestLog(sequence++), 'request completed'),
    'bulwark createLogger': () => bulwark.info(requestLog(sequence++), 'request completed'),
  },
  2000,
);

const baseline = rows.find((row) => row.name === 'pino (no redaction)')?.opsPerSecond ?? Number.NaN;
const ours = rows.find((row) => row.name === 'bulwark createLogger')?.opsPerSecond ?? Number.NaN;
const ratio = ours / baseline;

console.log(`## Logger: redacting logger vs pino

\`npm run bench -- logger\` · ${machineLine()} · pino ${versionOf('pino')}

One 20-field request log per call (nested \`headers\` with an \`authorization\` bearer token),
written to a sink stream that drops the bytes. "pino + redact paths" only redacts the listed paths;
Bulwark redacts secret keys at any depth in any case, and scrubs credential-looking values.

${table(rows, 'pino (no redaction)')}

Verdict: Bulwark runs at ${ratio.toFixed(2)}× plain pino's throughput (${(1 / ratio).toFixed(2)}x its cost); target ≥ 0.83× (within 1.2x): ${ratio >= 0.83 ? 'met' : 'NOT met'}.
`);
