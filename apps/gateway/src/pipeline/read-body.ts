import type { IncomingMessage } from 'node:http';
import { ApiError, errors } from 'bulwark/errors';

/**
 * Reads a request body into one buffer, never more than `limitBytes`: the declared Content-Length
 * is checked before the first byte is read, and a chunked body is stopped at the first chunk that
 * crosses the limit (413 PAYLOAD_TOO_LARGE either way).
 */
export function readBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = declaredLength(request);
  if (declared !== undefined && declared > limitBytes) return Promise.reject(errors.payloadTooLarge(limitBytes));
  if (declared === 0 || request.readableEnded) return Promise.resolve(EMPTY);

  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limitBytes) {
        cleanup();
        request.pause();
        reject(errors.payloadTooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, received));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new ApiError('BAD_REQUEST', { detail: 'The request body could not be read.', cause: error }));
    };
    const onClose = (): void => {
      if (request.complete) return;
      cleanup();
      reject(new ApiError('BAD_REQUEST', { detail: 'The client closed the connection before sending the whole body.' }));
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}

const EMPTY = Buffer.alloc(0);

/** The Content-Length as a number; `undefined` when absent (chunked or no body). */
export function declaredLength(request: IncomingMessage): number | undefined {
  const header = request.headers['content-length'];
  if (header === undefined) return undefined;
  // Node's parser has already rejected non-numeric and conflicting values.
  return Number(header);
}

/** Whether the request carries a body at all (a Content-Length above 0 or a Transfer-Encoding). */
export function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return request.headers['transfer-encoding'] !== undefined;
}
