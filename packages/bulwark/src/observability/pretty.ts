import { escapeControlCharacters } from './text.js';

/** Anything with pino's destination shape: `write(line)`. */
export interface LineSink {
  write(line: string): unknown;
}

const LEVEL_LABELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Members printed in the line's head rather than in the trailing JSON. */
const HEAD_MEMBERS = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/**
 * A development destination that turns pino's JSON lines into one readable line each:
 * `12:00:00.123 INFO  request completed {"method":"GET",…}`.
 *
 * Why hand-written rather than pino-pretty: pino-pretty prints the message and multi-line values
 * verbatim, which brings back the CR/LF (and ANSI escape) injection that JSON output prevents. This
 * formatter escapes every control character of the whole line, so one record is always one line.
 * It parses each line synchronously: fine for development, not meant for production volume.
 */
export function createPrettyStream(destination: LineSink): LineSink {
  return {
    write(line: string): void {
      destination.write(`${prettyLine(line)}\n`);
    },
  };
}

/** Formats one JSON log line; a line that is not a JSON object is escaped and printed as it is. */
export function prettyLine(line: string): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return escapeControlCharacters(line.replace(/\r?\n$/, ''));
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return escapeControlCharacters(line.replace(/\r?\n$/, ''));
  const fields = record as Record<string, unknown>;
  const time = typeof fields.time === 'number' ? new Date(fields.time).toISOString().slice(11, 23) : '--:--:--.---';
  const level = typeof fields.level === 'number' ? (LEVEL_LABELS[fields.level] ?? `L${fields.level}`) : String(fields.level ?? '');
  const message = fields.msg === undefined ? '' : typeof fields.msg === 'string' ? fields.msg : JSON.stringify(fields.msg);
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (HEAD_MEMBERS.has(key)) continue;
    Object.defineProperty(rest, key, { value, enumerable: true, writable: true, configurable: true });
  }
  const tail = Object.keys(rest).length === 0 ? '' : ` ${JSON.stringify(rest)}`;
  return escapeControlCharacters(`${time} ${level.padEnd(5)} ${message}${tail}`);
}
