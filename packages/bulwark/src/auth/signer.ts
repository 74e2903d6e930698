import { createPrivateKey, createSecretKey, createHmac, KeyObject, randomBytes, sign as signAsymmetric } from 'node:crypto';
import type { Item, Parameters } from 'structured-headers';
import { contentDigest, type ContentDigestAlgorithm } from './content-digest.js';
import { buildSignatureBase, componentIdentifier, isSupportedComponent, type CoveredComponent } from './signature-base.js';
import { headerLines, type HeaderBag } from './signature-headers.js';
import { MIN_HMAC_SECRET_BYTES } from './signature-key.js';
import { serializeSignatureParams } from './signature-serialize.js';
import type { SignatureAlgorithm } from './signature-types.js';

/**
 * Signing requests under Bulwark's RFC 9421 profile, for clients: what {@link createSignatureVerifier}
 * accepts by default (`@method`, `@authority`, `@path`, `@query`, `content-digest` with a body;
 * `created`, `keyid`, `alg`, `nonce`).
 */

export interface SignOptions {
  /** The `keyid` the server looks the key up by. */
  readonly keyId: string;
  readonly algorithm: SignatureAlgorithm;
  /**
   * `hmac-sha256`: the shared secret (a string is used as its UTF-8 bytes; ≥ 32 bytes) or a secret
   * `KeyObject`. `ed25519`: the private key, as a `KeyObject` or PEM (PKCS#8).
   */
  readonly key: string | Uint8Array | KeyObject;
  /** Add a random `nonce` (128 bits), or use this one. The default verifier requires one. @default true */
  readonly nonce?: boolean | string;
  /** The `created` time in seconds since the epoch. @default now */
  readonly created?: number;
  /** Add `expires` this many seconds after `created`. @default undefined (no `expires`) */
  readonly expiresInSeconds?: number;
  /** The signature's label in the headers. @default 'sig1' */
  readonly label?: string;
  /** The `tag` parameter (an application-specific purpose, RFC 9421 §2.3). @default undefined */
  readonly tag?: string;
  /** Header fields to cover as well (lower-case names; they must be present in the request). @default [] */
  readonly components?: readonly string[];
  /** Send the `alg` parameter. @default true */
  readonly includeAlg?: boolean;
  /** Digest algorithm of `Content-Digest`. @default 'sha-256' */
  readonly digestAlgorithm?: ContentDigestAlgorithm;
  /** Clock in milliseconds, for tests. @default Date.now */
  readonly now?: () => number;
}

/** A request to sign. `url` is absolute; it is normalised as `fetch` will send it (WHATWG URL). */
export interface SignableRequest {
  readonly method: string;
  readonly url: string | URL;
  readonly headers?: HeaderBag;
  readonly body?: Uint8Array | string | null;
}

/** The headers to add to the request. `Content-Digest` is present when the body is not empty. */
export interface SignatureHeaders {
  readonly 'Signature-Input': string;
  readonly Signature: string;
  readonly 'Content-Digest'?: string;
}

/** Signs requests with one key; options are validated once. */
export type RequestSigner = (request: SignableRequest) => SignatureHeaders;

const PROFILE_COMPONENTS = ['@method', '@authority', '@path', '@query'] as const;
/** `fetch` upper-cases these methods and only these (Fetch standard, "normalize a method"). */
const NORMALISED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
const LABEL = /^[a-z*][a-z0-9_.*-]*$/;

/**
 * Creates a signer for one key. Each call returns the headers to add: `Signature-Input`,
 * `Signature` and, with a body, `Content-Digest`.
 *
 * @throws TypeError on invalid options: unknown algorithm, a key of the wrong type, an HMAC secret
 *   under 32 bytes, a bad label or component name.
 * @example
 * const sign = createSigner({ keyId: 'billing', algorithm: 'hmac-sha256', key: process.env.SIGNING_SECRET! });
 * const headers = sign({ method: 'POST', url: 'https://api.example.com/orders', body: JSON.stringify(order) });
 */
export function createSigner(options: SignOptions): RequestSigner {
  const { keyId, algorithm } = options;
  if (typeof keyId !== 'string' || keyId.length === 0 || keyId.length > 256) throw new TypeError('keyId must be a non-empty string of at most 256 characters');
  const key = signingKeyOf(algorithm, options.key);
  const label = options.label ?? 'sig1';
  if (typeof label !== 'string' || !LABEL.test(label)) throw new TypeError('label must be a structured-field key such as sig1 (lower-case letters, digits, _ - . *)');
  const extraComponents = options.components ?? [];
  for (const name of extraComponents) {
    if (typeof name !== 'string' || name.startsWith('@') || !isSupportedComponent(name, new Map())) throw new TypeError(`components: ${String(name)} is not a lower-case header name`);
  }
  const digestAlgorithm = options.digestAlgorithm ?? 'sha-256';
  if (digestAlgorithm !== 'sha-256' && digestAlgorithm !== 'sha-512') throw new TypeError("digestAlgorithm must be 'sha-256' or 'sha-512'");
  const nonceOption = options.nonce ?? true;
  if (typeof nonceOption !== 'boolean' && (typeof nonceOption !== 'string' || !/^[\x20-\x7e]{1,256}$/.test(nonceOption))) {
    throw new TypeError('nonce must be true, false or a string of 1 to 256 printable ASCII characters');
  }
  const expiresInSeconds = options.expiresInSeconds;
  if (expiresInSeconds !== undefined && !(Number.isSafeInteger(expiresInSeconds) && expiresInSeconds > 0)) throw new TypeError('expiresInSeconds must be a positive integer');
  if (options.created !== undefined && !(Number.isSafeInteger(options.created) && options.created >= 0)) throw new TypeError('created must be a non-negative integer number of seconds');
  if (options.tag !== undefined && (typeof options.tag !== 'string' || options.tag.length === 0)) throw new TypeError('tag must be a non-empty string');
  const includeAlg = options.includeAlg ?? true;
  const now = options.now ?? Date.now;

  return function signRequestWithKey(request) {
    const url = new URL(request.url);
    const method = NORMALISED_METHODS.has(request.method.toUpperCase()) ? request.method.toUpperCase() : request.method;
    const body = request.body ?? undefined;
    const hasBody = body !== undefined && (typeof body === 'string' ? body.length > 0 : body.byteLength > 0);
    const digest = hasBody ? contentDigest(body, [digestAlgorithm]) : undefined;
    const names: string[] = [...PROFILE_COMPONENTS, ...(digest === undefined ? [] : ['content-digest']), ...extraComponents];
    const components: CoveredComponent[] = [...new Set(names)].map((name) => ({ name, parameters: new Map(), identifier: componentIdentifier(name) }));
    for (const name of extraComponents) {
      if (headerLines(request.headers, name) === undefined) throw new TypeError(`components: the request has no ${name} header to cover`);
    }

    const created = options.created ?? Math.floor(now() / 1000);
    const parameters: Parameters = new Map();
    parameters.set('created', created);
    if (expiresInSeconds !== undefined) parameters.set('expires', created + expiresInSeconds);
    parameters.set('keyid', keyId);
    if (includeAlg) parameters.set('alg', algorithm);
    if (nonceOption !== false) parameters.set('nonce', nonceOption === true ? randomBytes(16).toString('base64url') : nonceOption);
    if (options.tag !== undefined) parameters.set('tag', options.tag);
    const signatureParams = serializeSignatureParams([components.map((component): Item => [component.name, new Map()]), parameters]);

    const headers = digest === undefined ? request.headers : withHeader(request.headers, 'content-digest', digest);
    const base = buildSignatureBase(
      components,
      signatureParams,
      { method, scheme: url.protocol.slice(0, -1), authority: url.host, path: url.pathname === '' ? '/' : url.pathname, query: url.search === '' ? undefined : url.search.slice(1) },
      headers ?? {},
    );
    if (typeof base !== 'string') throw new TypeError(`cannot sign this request: a covered value is ${base.failure === 'malformed' ? 'not printable ASCII' : 'missing'}`);
    const signature =
      key.algorithm === 'hmac-sha256' ? createHmac('sha256', key.key).update(base).digest() : signAsymmetric(null, Buffer.from(base, 'latin1'), key.key);
    const result = { 'Signature-Input': `${label}=${signatureParams}`, Signature: `${label}=:${signature.toString('base64')}:` };
    return digest === undefined ? result : { ...result, 'Content-Digest': digest };
  };
}

/**
 * Signs one request: the headers to add (`Signature-Input`, `Signature`, `Content-Digest`). For
 * many requests with the same key, {@link createSigner} validates the options once.
 *
 * @example
 * const headers = signRequest(
 *   { method: 'POST', url: 'https://api.example.com/orders', headers: { 'content-type': 'application/json' }, body },
 *   { keyId: 'billing', algorithm: 'hmac-sha256', key: secret },
 * );
 * await fetch('https://api.example.com/orders', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
 */
export function signRequest(request: SignableRequest, options: SignOptions): SignatureHeaders {
  return createSigner(options)(request);
}

type SigningKey = { readonly algorithm: 'hmac-sha256'; readonly key: KeyObject } | { readonly algorithm: 'ed25519'; readonly key: KeyObject };

function signingKeyOf(algorithm: unknown, key: unknown): SigningKey {
  if (algorithm === 'hmac-sha256') {
    let keyObject: KeyObject;
    if (key instanceof KeyObject) {
      if (key.type !== 'secret') throw new TypeError('an hmac-sha256 key must be a secret, not a public or private key');
      keyObject = key;
    } else if (typeof key === 'string' || key instanceof Uint8Array) {
      keyObject = createSecretKey(typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key));
    } else {
      throw new TypeError('key must be the shared secret (string, bytes or secret KeyObject) for hmac-sha256');
    }
    if ((keyObject.symmetricKeySize ?? 0) < MIN_HMAC_SECRET_BYTES) throw new TypeError(`an hmac-sha256 secret must be at least ${MIN_HMAC_SECRET_BYTES} bytes`);
    return { algorithm, key: keyObject };
  }
  if (algorithm === 'ed25519') {
    let keyObject: KeyObject;
    try {
      keyObject = key instanceof KeyObject ? key : createPrivateKey(key as string);
    } catch {
      throw new TypeError('key must be an ed25519 private key (KeyObject or PKCS#8 PEM) for ed25519');
    }
    if (keyObject.type !== 'private' || keyObject.asymmetricKeyType !== 'ed25519') throw new TypeError('key must be an ed25519 private key for ed25519');
    return { algorithm, key: keyObject };
  }
  throw new TypeError(`algorithm must be 'hmac-sha256' or 'ed25519', got ${String(algorithm)}`);
}

/** `headers` with `name` set to `value`, as a plain record the base builder can read. */
function withHeader(headers: HeaderBag | undefined, name: string, value: string): Record<string, string | readonly string[]> {
  const record: Record<string, string | readonly string[]> = {};
  if (headers !== undefined && typeof (headers as { get?: unknown }).get === 'function' && typeof (headers as Headers).forEach === 'function') {
    (headers as Headers).forEach((headerValue, headerName) => {
      record[headerName] = headerValue;
    });
  } else if (headers !== undefined) {
    for (const [headerName, headerValue] of Object.entries(headers)) {
      if (typeof headerValue === 'string' || Array.isArray(headerValue)) record[headerName.toLowerCase()] = headerValue as string | readonly string[];
      else if (typeof headerValue === 'number') record[headerName.toLowerCase()] = String(headerValue);
    }
  }
  record[name] = value;
  return record;
}
