import { v7 as uuidv7 } from 'uuid';

/** The header that carries the request id, in and out (lower case, as Node presents headers). */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * What an incoming request id may look like: 1–128 characters of `A–Z a–z 0–9 . _ : -`. Nothing that
 * could split a log line, inject a header or smuggle markup; long enough for UUIDs, ULIDs, W3C trace
 * ids and the `service:id` forms proxies add.
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** A new request id: a UUIDv7 (RFC 9562), time-ordered so ids sort by arrival in logs and indexes. */
export function generateRequestId(): string {
  return uuidv7();
}

/**
 * The request id to use for a request: the incoming header value when it is exactly one value
 * matching {@link REQUEST_ID_PATTERN}, otherwise a fresh UUIDv7. A header sent twice arrives as an
 * array (or joined with `, `, which the pattern rejects) and is replaced, never guessed between.
 *
 * @example
 * const id = resolveRequestId(req.headers['x-request-id']);
 */
export function resolveRequestId(incoming: string | readonly string[] | undefined): string {
  return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : generateRequestId();
}
