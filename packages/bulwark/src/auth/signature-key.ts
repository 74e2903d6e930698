import { createPublicKey, createSecretKey, KeyObject } from 'node:crypto';
import type { SignatureAlgorithm, SignatureKey } from './signature-types.js';

/** A key made ready for verification once, then cached: HMAC secrets become `KeyObject`s. */
export type PreparedKey =
  | { readonly algorithm: 'hmac-sha256'; readonly key: KeyObject }
  | { readonly algorithm: 'ed25519'; readonly key: KeyObject };

/** The shortest HMAC secret {@link hmacSignatureKey} accepts: 256 bits, the output size of SHA-256. */
export const MIN_HMAC_SECRET_BYTES = 32;

const prepared = new WeakMap<object, PreparedKey | null>();

/**
 * Checks that `key` really is of its pinned algorithm (an HMAC key holds secret bytes, an ed25519
 * key an ed25519 public `KeyObject`) and returns it ready to use; `undefined` when it is not, which
 * the verifier reports as `alg_mismatch`. Cached per key object, so a key lookup that returns the
 * same objects pays for `createSecretKey` once.
 */
export function prepareSignatureKey(key: SignatureKey): PreparedKey | undefined {
  const cached = prepared.get(key);
  if (cached !== undefined) return cached ?? undefined;
  const result = prepareUncached(key);
  prepared.set(key, result ?? null);
  return result;
}

function prepareUncached(key: SignatureKey): PreparedKey | undefined {
  if (key.algorithm === 'hmac-sha256') {
    const secret: unknown = (key as { secret?: unknown }).secret;
    if (!(secret instanceof Uint8Array) || secret.byteLength === 0) return undefined;
    return { algorithm: 'hmac-sha256', key: createSecretKey(Buffer.from(secret)) };
  }
  if (key.algorithm === 'ed25519') {
    const publicKey: unknown = (key as { publicKey?: unknown }).publicKey;
    if (!(publicKey instanceof KeyObject) || publicKey.type !== 'public' || publicKey.asymmetricKeyType !== 'ed25519') return undefined;
    return { algorithm: 'ed25519', key: publicKey };
  }
  return undefined;
}

/**
 * An HMAC-SHA256 verification key. The secret is the bytes both sides share: a string is used as
 * its UTF-8 bytes (the form the gateway config and `bulwark sign --secret-env` use).
 *
 * @throws TypeError when `keyId` is empty or the secret is shorter than 32 bytes.
 * @example
 * const key = hmacSignatureKey('billing-service', process.env.BILLING_SIGNING_SECRET!);
 */
export function hmacSignatureKey(keyId: string, secret: string | Uint8Array): SignatureKey {
  assertKeyId(keyId);
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret instanceof Uint8Array ? Buffer.from(secret) : undefined;
  if (bytes === undefined || bytes.byteLength < MIN_HMAC_SECRET_BYTES) {
    throw new TypeError(`the secret of signature key "${keyId}" must be at least ${MIN_HMAC_SECRET_BYTES} bytes`);
  }
  return Object.freeze({ keyId, algorithm: 'hmac-sha256', secret: bytes });
}

/**
 * An ed25519 verification key from a PEM (SPKI) public key, the base64url (or base64) encoding of
 * the 32 raw key bytes, or a public `KeyObject`. Private keys are refused: the verifying side never
 * needs one.
 *
 * @throws TypeError when `keyId` is empty or the key is not an ed25519 public key.
 * @example
 * const key = ed25519SignatureKey('partner-a', fs.readFileSync('partner-a.pub.pem', 'utf8'));
 */
export function ed25519SignatureKey(keyId: string, publicKey: string | KeyObject): SignatureKey {
  assertKeyId(keyId);
  // `createPublicKey` quietly derives the public half of a private PEM: refuse it by name, so that a
  // private key never ends up in the verifier's configuration.
  if (typeof publicKey === 'string' && /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(publicKey)) {
    throw new TypeError(`signature key "${keyId}" was given a private key: configure the public key only (the verifying side never needs the private one)`);
  }
  let keyObject: KeyObject;
  try {
    if (publicKey instanceof KeyObject) keyObject = publicKey;
    else if (typeof publicKey === 'string' && publicKey.includes('-----BEGIN')) keyObject = createPublicKey(publicKey);
    else if (typeof publicKey === 'string') keyObject = publicKeyFromRaw(Buffer.from(publicKey.trim(), 'base64url'));
    else throw new TypeError('not a key');
  } catch {
    throw new TypeError(`the public key of signature key "${keyId}" is not a PEM public key or 32 base64url-encoded bytes`);
  }
  if (keyObject.type !== 'public' || keyObject.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`the public key of signature key "${keyId}" must be an ed25519 public key`);
  }
  return Object.freeze({ keyId, algorithm: 'ed25519', publicKey: keyObject });
}

/** An ed25519 public key from its 32 raw bytes (RFC 8032), through the JWK form Node imports. */
export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.byteLength !== 32) throw new TypeError('an ed25519 public key is 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

function assertKeyId(keyId: unknown): asserts keyId is string {
  if (typeof keyId !== 'string' || keyId.length === 0 || keyId.length > 256) throw new TypeError('keyId must be a non-empty string of at most 256 characters');
}

/** Whether `value` names an algorithm of the profile. */
export function isSignatureAlgorithm(value: unknown): value is SignatureAlgorithm {
  return value === 'hmac-sha256' || value === 'ed25519';
}
