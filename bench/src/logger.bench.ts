/**
 * Redacting logger vs plain pino: what does any-depth, case-insensitive key redaction plus value
 * scrubbing cost on a realistic request log? Target: Bulwark within 1.2x of plain pino (≥ 0.83×
 * its throughput). pino with its built-in path `redact` is the second peer: it is what a team would
 * otherwise configure, though it only knows the paths it is given.
 *
 *   npm run bench -- logger
 */
import { Writable } from 'node:stream';
import { pino, type DestinationStream } from 'pino';
import { createLogger } from 'bulwark/observability';
import { machineLine, measure, table, versionOf, type Row } from './support/report.js';

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

const redactPaths = ['headers.authorization', 'headers.cookie', 'headers["x-api-key"]', 'password', '*.password'];

/** The three loggers under test, all at level info, writing to `destination()`. */
function loggers(destination: () => DestinationStream) {
  return {
    plain: pino({ level: 'info' }, destination()),
    pinoRedact: pino({ level: 'info', redact: { paths: redactPaths } }, destination()),
    bulwark: createLogger({ level: 'info', destination: destination() }),
  };
}

// Two kinds of no-op destination: a Writable that drops each chunk (no syscall, so the loggers'
// own work dominates: the hardest case for the ratio), and pino's sonic-boom on /dev/null (one
// write(2) per line, as in production with a synchronous destination).
const destinations = {
  'sink stream': () => sink(),
  '/dev/null': () => pino.destination({ dest: '/dev/null', sync: true }),
};

/**
 * CPU time per call, the tasks interleaved round by round (median of the rounds). Wall-clock figures
 * on a shared machine swing with other processes' load; CPU time of this process, alternating
 * between the tasks every few thousand calls, is what a ratio can rest on.
 */
function interleavedCpu(tasks: Record<string, () => unknown>, rounds = 21, batch = 4000): Row[] {
  const samples = new Map<string, number[]>(Object.keys(tasks).map((name) => [name, []]));
  for (const task of Object.values(tasks)) for (let call = 0; call < batch; call += 1) task(); // warm-up
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, task] of Object.entries(tasks)) {
      const start = process.cpuUsage();
      for (let call = 0; call < batch; call += 1) task();
      const used = process.cpuUsage(start);
      samples.get(name)?.push((used.user + used.system) / batch);
    }
  }
  return [...samples].map(([name, values]) => {
    const median = [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
    return { name, opsPerSecond: 1e6 / median, note: 'CPU time, interleaved' };
  });
}

// One record per call, as in production: a fresh object every time (a redactor that cached by object
// identity would otherwise look faster than it is). tinybench (wall clock) runs each set three times
// and keeps each task's best pass; the verdict rests on the interleaved CPU-time figures.
let sequence = 0;
const sections: string[] = [];
const verdicts: string[] = [];
for (const [label, destination] of Object.entries(destinations)) {
  const { plain, pinoRedact, bulwark } = loggers(destination);
  const names = { plain: `pino (no redaction), ${label}`, redact: `pino + redact paths, ${label}`, ours: `bulwark createLogger, ${label}` };
  const tasks = {
    [names.plain]: () => plain.info(requestLog(sequence++), 'request completed'),
    [names.redact]: () => pinoRedact.info(requestLog(sequence++), 'request completed'),
    [names.ours]: () => bulwark.info(requestLog(sequence++), 'request completed'),
  };
  const passes = [await measure(tasks, 1000), await measure(tasks, 1000), await measure(tasks, 1000)];
  const wall = passes[0]!.map((_row, index) => passes.map((pass) => pass[index]!).reduce((best, row) => (row.opsPerSecond > best.opsPerSecond ? row : best)));
  const cpu = interleavedCpu(tasks);
  const ratioOf = (rows: readonly Row[]): number =>
    (rows.find((row) => row.name === names.ours)?.opsPerSecond ?? Number.NaN) / (rows.find((row) => row.name === names.plain)?.opsPerSecond ?? Number.NaN);
  sections.push(`Wall clock (tinybench, best of 3 passes):\n\n${table(wall, names.plain)}\n\nCPU time, interleaved (median of 21 rounds):\n\n${table(cpu, names.plain)}`);
  const ratio = ratioOf(cpu);
  verdicts.push(`${label}: ${ratio.toFixed(2)}× plain pino's throughput in CPU time (${(1 / ratio).toFixed(2)}x its cost; wall clock ${ratioOf(wall).toFixed(2)}×) — ${ratio >= 0.83 ? 'met' : 'NOT met'}`);
}

console.log(`## Logger: redacting logger vs pino

\`npm run bench -- logger\` · ${machineLine()} · pino ${versionOf('pino')}

One 20-field request log per call (nested \`headers\` with an \`authorization\` bearer token), at
level info. "pino + redact paths" only redacts the five paths it is given; Bulwark redacts secret
keys at any depth in any case and scrubs credential-looking values in every string and the message.

${sections.join('\n\n')}

Verdict (target: Bulwark ≥ 0.83× plain pino, i.e. within 1.2x): ${verdicts.join('; ')}.
`);
