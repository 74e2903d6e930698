import { createSigner, type SignOptions } from './signer.js';

/**
 * An undici interceptor that signs every request a dispatcher sends. Typed structurally, so that
 * the library does not depend on undici; it fits `Dispatcher.compose`.
 */

/** The part of undici's `DispatchOptions` the interceptor reads. */
export interface DispatchOptionsLike {
  readonly origin?: string | URL | undefined;
  readonly path: string;
  readonly method: string;
  readonly headers?: unknown;
  readonly body?: unknown;
  readonly query?: unknown;
}

/** An undici `dispatch` function. */
export type DispatchLike<O extends DispatchOptionsLike, H> = (options: O, handler: H) => boolean;

/**
 * Creates an undici interceptor that adds `Signature-Input`, `Signature` and `Content-Digest` to
 * every request. Bodies must be bytes or strings (a digest needs the whole body up front): a stream
 * or `FormData` body, or undici's separate `query` option, is refused with a `TypeError`.
 *
 * @throws TypeError (from the factory) on invalid signing options.
 * @example
 * import { Agent, request } from 'undici';
 * const dispatcher = new Agent().compose(createSigningInterceptor({ keyId: 'billing', algorithm: 'hmac-sha256', key: secret }));
 * const { statusCode } = await request('https://api.example.com/orders', { method: 'POST', body, dispatcher });
 */
export function createSigningInterceptor(options: SignOptions) {
  const sign = createSigner(options);
  return function signingInterceptor<O extends DispatchOptionsLike, H>(dispatch: DispatchLike<O, H>): DispatchLike<O, H> {
    return function signedDispatch(dispatchOptions, handler) {
      if (dispatchOptions.query !== undefined && dispatchOptions.query !== null) {
        throw new TypeError('signed requests must carry their query in the path (the undici `query` option is added after signing)');
      }
      const body = dispatchOptions.body;
      if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
        throw new TypeError('signed requests need the body as a string or bytes: a stream or FormData cannot be digested before it is sent');
      }
      if (dispatchOptions.origin === undefined) throw new TypeError('signed requests need an origin');
      const url = new URL(dispatchOptions.path, dispatchOptions.origin);
      const headers = headerRecord(dispatchOptions.headers);
      const added = sign({ method: dispatchOptions.method, url, headers, body: body ?? null });
      for (const [name, value] of Object.entries(added)) headers[name.toLowerCase()] = value as string;
      return dispatch({ ...dispatchOptions, headers }, handler);
    };
  };
}

/** undici accepts headers as a record, a flat `[name, value, …]` array or an iterable of pairs. */
function headerRecord(headers: unknown): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  const add = (name: unknown, value: unknown): void => {
    if (value === undefined || value === null) return;
    const key = String(name).toLowerCase();
    const text = Array.isArray(value) ? value.map(String) : String(value);
    const existing = record[key];
    record[key] = existing === undefined ? text : [...(Array.isArray(existing) ? existing : [existing]), ...(Array.isArray(text) ? text : [text])];
  };
  if (headers === undefined || headers === null) return record;
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) for (const [name, value] of headers as [unknown, unknown][]) add(name, value);
    else for (let index = 0; index + 1 < headers.length; index += 2) add(headers[index], headers[index + 1]);
  } else if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [name, value] of headers as Iterable<[unknown, unknown]>) add(name, value);
  } else if (typeof headers === 'object') {
    for (const [name, value] of Object.entries(headers)) add(name, value);
  }
  return record;
}
