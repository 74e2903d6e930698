import type { KeyObject } from 'node:crypto';
import type { HeaderBag } from './signature-headers.js';

/** The signature algorithms of the profile (RFC 9421 §3.3). */
export type SignatureAlgorithm = 'hmac-sha256' | 'ed25519';

/** The algorithms of the profile, in the order the docs list them. */
export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = Object.freeze(['hmac-sha256', 'ed25519']);

/**
 * A key the verifier can check signatures with. The algorithm is pinned to the key: a signature that
 * claims another `alg`, or a key of another type, fails with `alg_mismatch` — so an HMAC secret can
 * never be used as if it were a public key, or the reverse. The server side of an ed25519 key holds
 * only the public key.
 */
export type SignatureKey =
  | { readonly keyId: string; readonly algorithm: 'hmac-sha256'; readonly secret: Uint8Array }
  | { readonly keyId: string; readonly algorithm: 'ed25519'; readonly publicKey: KeyObject };

/** Looks a key up by its id; `undefined` when there is none. May be asynchronous (a database). */
export type SignatureKeyLookup = (keyId: string) => Promise<SignatureKey | undefined> | SignatureKey | undefined;

/**
 * Why a signature was refused. Stable strings: they are metric labels and map to error codes.
 *
 * - `missing`: no `Signature-Input`/`Signature` (or none with the configured label)
 * - `malformed`: unparsable or oversized headers, wrong parameter types, unsupported components
 * - `unknown_key`: no key with that `keyid`
 * - `bad_signature`: the signature does not verify
 * - `expired` / `future`: `created` outside the window (or `expires` passed)
 * - `replayed`: the nonce was already used within the window
 * - `digest_mismatch`: `Content-Digest` does not match the body received
 * - `component_missing`: a required component or parameter is not covered, or a covered header is absent
 * - `alg_mismatch`: the `alg` parameter or the key type differs from the key's pinned algorithm
 * - `unavailable`: the key lookup or the nonce store failed; the request is refused (fail closed)
 */
export type SignatureFailureReason =
  | 'missing'
  | 'malformed'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'future'
  | 'replayed'
  | 'digest_mismatch'
  | 'component_missing'
  | 'alg_mismatch'
  | 'unavailable';

/** Every failure reason, for exhaustive tables and tests. */
export const SIGNATURE_FAILURE_REASONS: readonly SignatureFailureReason[] = Object.freeze([
  'missing',
  'malformed',
  'unknown_key',
  'bad_signature',
  'expired',
  'future',
  'replayed',
  'digest_mismatch',
  'component_missing',
  'alg_mismatch',
  'unavailable',
]);

/** A refused verification. */
export interface VerificationFailure<R extends string> {
  readonly ok: false;
  readonly reason: R;
}

/** An accepted RFC 9421 signature. */
export interface SignatureVerified {
  readonly ok: true;
  /** The `keyid` of the key that verified the signature. */
  readonly keyId: string;
  /** The label of the signature that was checked (`sig1`, …). */
  readonly label: string;
  /** The `created` parameter, in seconds since the epoch. */
  readonly created: number;
  /** The algorithm of the key. */
  readonly algorithm: SignatureAlgorithm;
  /** The `nonce` parameter, when the signature had one. */
  readonly nonce?: string;
}

export type SignatureVerification = SignatureVerified | VerificationFailure<SignatureFailureReason>;

/**
 * The request to verify. The target is given either as `url` (absolute, or origin-form `/path?query`
 * with the authority from `Host`) or as `authority`, `path` and `query`; explicit parts win over the
 * URL. Values are used as received (no percent-decoding, no dot-segment removal), which is what the
 * signer covered.
 */
export interface SignatureRequest {
  readonly method: string;
  /** `https://api.example.com/orders?id=1` or `/orders?id=1`. */
  readonly url?: string;
  /** `host[:port]`; overrides the URL's and the `Host` header (set it behind a proxy that rewrites `Host`). */
  readonly authority?: string;
  /** The path, `/orders`; overrides the URL's. */
  readonly path?: string;
  /** The query, with or without its leading `?`; `''` for none. Overrides the URL's. */
  readonly query?: string;
  /** `https` or `http`; decides which port is the default one in `@authority`. @default the URL's, else 'https' */
  readonly scheme?: string;
  readonly headers: HeaderBag;
  /** The raw body bytes, exactly as received. */
  readonly body?: Uint8Array | string;
}
