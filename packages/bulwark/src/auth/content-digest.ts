import { hash } from 'node:crypto';
import { parseDictionary } from 'structured-headers';
import { safeEqual } from './safe-equal.js';

/**
 * `Content-Digest` (RFC 9530): a hash of the message content, which a signature can cover so that
 * the body is protected too. Only `sha-256` and `sha-512` are supported — RFC 9530 marks the others
 * (`md5`, `sha`, `unixsum`, …) insecure or deprecated.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9530
 */
export type ContentDigestAlgorithm = 'sha-256' | 'sha-512';

const NODE_HASH: Readonly<Record<ContentDigestAlgorithm, string>> = { 'sha-256': 'sha256', 'sha-512': 'sha512' };
const DIGEST_BYTES: Readonly<Record<ContentDigestAlgorithm, number>> = { 'sha-256': 32, 'sha-512': 64 };

/** The outcome of checking a `Content-Digest` against the bytes received. */
export type ContentDigestCheck =
  /** Every supported digest in the header matches the body. */
  | 'match'
  /** A supported digest does not match (or has the wrong length). */
  | 'mismatch'
  /** The header is not a valid structured dictionary of byte sequences. */
  | 'malformed'
  /** The header names no supported algorithm, so nothing could be checked. */
  | 'unsupported';

/** The digest of `body` with `algorithm`, as raw bytes. */
export function digestOf(body: Uint8Array | string, algorithm: ContentDigestAlgorithm): Buffer {
  return hash(NODE_HASH[algorithm], body, 'buffer');
}

/**
 * The one-member header every signer sends (`sha-256=:<base64>:`), matched exactly; anything else
 * (several members, parameters, other algorithms) goes to the structured-field parser. Saves the
 * parser's cost on the hot path of every signed request with a body.
 */
const SINGLE_DIGEST = /^(sha-256|sha-512)=:([A-Za-z0-9+/]{43}=|[A-Za-z0-9+/]{86}==):$/;

/**
 * The `Content-Digest` value for `body`: `sha-256=:<base64>:` (one member per algorithm, in order).
 *
 * @example
 * contentDigest('{"hello": "world"}'); // 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:'
 */
export function contentDigest(body: Uint8Array | string, algorithms: readonly ContentDigestAlgorithm[] = ['sha-256']): string {
  if (algorithms.length === 0) throw new TypeError("algorithms must name at least one of 'sha-256', 'sha-512'");
  return algorithms
    .map((algorithm) => {
      if (!Object.hasOwn(NODE_HASH, algorithm)) throw new TypeError(`unsupported content digest algorithm ${String(algorithm)}; use 'sha-256' or 'sha-512'`);
      return `${algorithm}=:${digestOf(body, algorithm).toString('base64')}:`;
    })
    .join(', ');
}

/**
 * The algorithm and claimed bytes of a one-member `Content-Digest` of the right length, the form
 * every signer sends; `undefined` for any other header (let {@link checkContentDigest} parse it).
 */
export function readSingleContentDigest(header: string): { readonly algorithm: ContentDigestAlgorithm; readonly claimed: Buffer } | undefined {
  const single = SINGLE_DIGEST.exec(header);
  if (single === null) return undefined;
  const algorithm = single[1] as ContentDigestAlgorithm;
  const claimed = Buffer.from(single[2] as string, 'base64');
  return claimed.byteLength === DIGEST_BYTES[algorithm] ? { algorithm, claimed } : undefined;
}

/**
 * Recomputes the digest of the bytes received and compares it with the header. Unknown algorithms
 * in the header are ignored (RFC 9530 §2); every supported one present must match. Never throws.
 *
 * @example
 * checkContentDigest(request.headers['content-digest'], rawBody) === 'match'
 */
export function checkContentDigest(header: string, body: Uint8Array | string): ContentDigestCheck {
  const single = readSingleContentDigest(header);
  if (single !== undefined) return safeEqual(single.claimed, digestOf(body, single.algorithm)) ? 'match' : 'mismatch';
  let members;
  try {
    members = parseDictionary(header);
  } catch {
    return 'malformed';
  }
  let checked = 0;
  for (const [name, member] of members) {
    const value = member[0];
    if (!(value instanceof ArrayBuffer)) return 'malformed';
    if (name !== 'sha-256' && name !== 'sha-512') continue;
    const claimed = new Uint8Array(value);
    if (claimed.byteLength !== DIGEST_BYTES[name] || !safeEqual(claimed, digestOf(body, name))) return 'mismatch';
    checked += 1;
  }
  return checked === 0 ? 'unsupported' : 'match';
}
