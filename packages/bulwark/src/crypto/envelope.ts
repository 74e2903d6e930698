/**
 * The AES-256-GCM envelope: `v1.<keyId>.<iv>.<ciphertext>.<tag>`, every binary part unpadded
 * base64url. The version and key id travel in clear so that the right key can be picked during a
 * rotation, and they are bound into the GCM additional data, so changing either one fails
 * authentication like any other tampering.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { decodeBase64url } from './base64url.js';
import { DecryptionError } from './decryption-error.js';

export const ENVELOPE_VERSION = 'v1';
/** 96-bit IV, the size GCM is designed for (NIST SP 800-38D §8.2). */
export const IV_BYTES = 12;
/** Full 128-bit tag; truncated tags weaken GCM's forgery bound. */
export const TAG_BYTES = 16;

const CIPHER = 'aes-256-gcm';
const KEY_ID = /^[0-9a-f]{16}$/;

/** The parts of an envelope after parsing; `ciphertext` may be empty (empty plaintext). */
export interface ParsedEnvelope {
  readonly keyId: string;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

function additionalData(keyId: string, aad: string | undefined): Buffer {
  // A fixed header, a NUL separator and the caller's AAD: the header cannot run into the AAD, so
  // ("id", "x") and ("idx", "") never produce the same bytes.
  return Buffer.concat([Buffer.from(`bulwark/${ENVELOPE_VERSION}/${keyId}\0`, 'utf8'), Buffer.from(aad ?? '', 'utf8')]);
}

/** Encrypts `plaintext` under `key` (32 bytes) with a fresh random IV and returns the envelope. */
export function sealEnvelope(key: Buffer, keyId: string, plaintext: Buffer, aad: string | undefined): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(CIPHER, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(keyId, aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [ENVELOPE_VERSION, keyId, iv.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join('.');
}

const MALFORMED = 'cannot decrypt: the envelope is malformed (expected v1.<keyId>.<iv>.<ciphertext>.<tag>, base64url parts)';

/**
 * Splits and decodes an envelope without touching any key.
 *
 * @throws DecryptionError `malformed` or `unsupported_version`.
 */
export function parseEnvelope(envelope: string): ParsedEnvelope {
  if (typeof envelope !== 'string' || envelope.length === 0) throw new DecryptionError('malformed', MALFORMED);
  const parts = envelope.split('.');
  const [version, keyId, ivText, ciphertextText, tagText] = parts;
  if (version !== ENVELOPE_VERSION) {
    if (parts.length === 5 && version !== undefined && /^v\d{1,4}$/.test(version)) {
      throw new DecryptionError('unsupported_version', `cannot decrypt: envelope version ${version} is not supported (this build reads ${ENVELOPE_VERSION})`);
    }
    throw new DecryptionError('malformed', MALFORMED);
  }
  if (parts.length !== 5 || keyId === undefined || ivText === undefined || ciphertextText === undefined || tagText === undefined || !KEY_ID.test(keyId)) {
    throw new DecryptionError('malformed', MALFORMED);
  }
  const iv = decodeBase64url(ivText);
  const ciphertext = decodeBase64url(ciphertextText);
  const tag = decodeBase64url(tagText);
  if (iv?.length !== IV_BYTES || tag?.length !== TAG_BYTES || ciphertext === undefined) {
    throw new DecryptionError('malformed', MALFORMED);
  }
  return { keyId, iv, ciphertext, tag };
}

/**
 * Authenticates and decrypts a parsed envelope under `key`.
 *
 * @throws DecryptionError `authentication_failed` when the tag does not verify.
 */
export function openEnvelope(key: Buffer, parsed: ParsedEnvelope, aad: string | undefined): Buffer {
  const decipher = createDecipheriv(CIPHER, key, parsed.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(additionalData(parsed.keyId, aad));
  decipher.setAuthTag(parsed.tag);
  const plaintext = decipher.update(parsed.ciphertext);
  try {
    // final() is where GCM verifies the tag; update() output is released only after it succeeds.
    return Buffer.concat([plaintext, decipher.final()]);
  } catch {
    plaintext.fill(0);
    throw new DecryptionError('authentication_failed', 'cannot decrypt: authentication failed (the envelope was altered, or the AAD differs from the one used to encrypt)');
  }
}
