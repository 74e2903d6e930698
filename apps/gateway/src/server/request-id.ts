import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request id: a client's `X-Request-ID` when it matches `^[A-Za-z0-9._:-]{1,128}$` (so that a
 * trace can span the client, the gateway and the upstream), otherwise a fresh UUID. A value that
 * does not match is never echoed, logged or forwarded: it could carry anything.
 */
export function requestIdOf(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  if (typeof header === 'string' && VALID_REQUEST_ID.test(header)) return header;
  return randomUUID();
}
