import { createSigner, type SignOptions } from './signer.js';

export interface SigningFetchOptions extends SignOptions {
  /** The `fetch` to call with the signed request. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/**
 * A `fetch` that signs every request under Bulwark's RFC 9421 profile before sending it. The body
 * is read into memory once (a digest needs all of it) and sent as those exact bytes.
 *
 * @throws TypeError (from the factory) on invalid signing options.
 * @example
 * const signedFetch = createSigningFetch({ keyId: 'billing', algorithm: 'hmac-sha256', key: process.env.SIGNING_SECRET! });
 * const response = await signedFetch('https://api.example.com/orders', {
 *   method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order),
 * });
 */
export function createSigningFetch(options: SigningFetchOptions): typeof fetch {
  const sign = createSigner(options);
  const baseFetch = options.fetch ?? globalThis.fetch;
  if (typeof baseFetch !== 'function') throw new TypeError('fetch must be a function (no global fetch in this runtime)');

  return async function signingFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    // `Request` applies fetch's own normalisation (method case, URL, default content-type), so the
    // signature covers exactly what is sent.
    const request = new Request(input, init);
    const body = request.body === null ? undefined : new Uint8Array(await request.arrayBuffer());
    const headers = new Headers(request.headers);
    const added = sign({ method: request.method, url: request.url, headers, body: body ?? null });
    for (const [name, value] of Object.entries(added)) headers.set(name, value as string);
    const signedInit: RequestInit = { ...init, method: request.method, headers, signal: request.signal, redirect: request.redirect };
    if (body !== undefined) signedInit.body = body;
    return baseFetch(request.url, signedInit);
  } as typeof fetch;
}
