import { Transform, type TransformCallback } from 'node:stream';
import { errors } from 'bulwark/errors';

/**
 * A pass-through that fails with 413 PAYLOAD_TOO_LARGE once more than `limitBytes` went through:
 * the guard for chunked bodies streamed to the upstream without buffering (a body with a
 * Content-Length is checked before it is read, and Node enforces the declared length).
 */
export class LimitStream extends Transform {
  private received = 0;
  private readonly limitBytes: number;

  constructor(limitBytes: number) {
    super();
    this.limitBytes = limitBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length;
    if (this.received > this.limitBytes) {
      callback(errors.payloadTooLarge(this.limitBytes));
      return;
    }
    callback(null, chunk);
  }
}
