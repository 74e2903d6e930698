/**
 * Key management: the master key, HKDF-SHA256 subkeys per purpose, AES-256-GCM envelopes with key
 * ids for rotation, and secret generation. See docs/crypto.md.
 */
export { parseMasterKey, generateMasterKey, MASTER_KEY_MIN_BYTES, MASTER_KEY_MAX_BYTES, MASTER_KEY_MIN_ENTROPY_BITS_PER_BYTE } from './master-key.js';
export { generateSecret, MIN_SECRET_BYTES, MAX_SECRET_BYTES } from './generate-secret.js';
export { createKeyring } from './keyring.js';
export type { Keyring, KeyringOptions } from './keyring.js';
export { SUBKEY_PURPOSES, isSubkeyPurpose } from './subkey-purpose.js';
export type { SubkeyPurpose, BuiltinSubkeyPurpose } from './subkey-purpose.js';
export { DecryptionError, isDecryptionError } from './decryption-error.js';
export type { DecryptionFailureReason } from './decryption-error.js';
export { shannonEntropy } from './entropy.js';
export { decodeBase64url } from './base64url.js';
