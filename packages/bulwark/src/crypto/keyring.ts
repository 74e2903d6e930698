import { hkdfSync } from 'node:crypto';
import { DecryptionError } from './decryption-error.js';
import { openEnvelope, parseEnvelope, sealEnvelope } from './envelope.js';
import { MASTER_KEY_MAX_BYTES, MASTER_KEY_MIN_BYTES } from './master-key.js';
import { isSubkeyPurpose } from './subkey-purpose.js';
import type { SubkeyPurpose } from './subkey-purpose.js';

/** Fixed HKDF salt (RFC 5869 §3.1: optional for a uniformly random master key; a constant separates Bulwark's derivations from any other use of the same key). */
const HKDF_SALT = Buffer.from('bulwark/hkdf-salt/v1', 'utf8');
const SUBKEY_MIN_BYTES = 16;
/** HKDF-SHA256 can expand to at most 255 × 32 bytes. */
const SUBKEY_MAX_BYTES = 255 * 32;
const KEY_ID_BYTES = 8;

export interface KeyringOptions {
  /** The current master key (≥ 32 bytes): everything new is derived from and encrypted under it. */
  readonly current: Buffer;
  /** The master key being rotated out: still decrypts and verifies, never encrypts. @default undefined */
  readonly previous?: Buffer | undefined;
}

/**
 * Keys derived from the master key. Holds the master keys in a closure: the object itself has no
 * key material to log, serialise or inspect.
 */
export interface Keyring {
  /** Short, stable, public id of the current master key (16 hex characters). */
  readonly keyId: string;
  /** Id of the previous master key, when one was given. */
  readonly previousKeyId: string | undefined;
  /**
   * The subkey for `purpose` (HKDF-SHA256, info `bulwark/v1/<purpose>`), derived once and cached.
   * Returns a fresh copy, so a caller that zeroes or changes it cannot affect others.
   *
   * @param length - bytes, 16–8160. @default 32
   */
  subkey(purpose: SubkeyPurpose, length?: number): Buffer;
  /** The same subkey under the previous master key, for verifying old tokens during a rotation; `undefined` without one. */
  previousSubkey(purpose: SubkeyPurpose, length?: number): Buffer | undefined;
  /**
   * Encrypts with AES-256-GCM under the `encryption-at-rest` subkey of the current key and a random
   * 96-bit IV. `aad` (additional authenticated data, not stored) must be given again to decrypt:
   * bind a ciphertext to its context, e.g. the row id, so it cannot be moved to another row.
   * An absent `aad` is the same as `''`.
   *
   * @returns `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts).
   */
  encrypt(plaintext: Buffer | string, aad?: string): string;
  /**
   * Decrypts an envelope made by {@link Keyring.encrypt} under the current or the previous key
   * (chosen by the key id in the envelope).
   *
   * @throws DecryptionError for a malformed, altered, unknown-key or wrong-AAD envelope; never returns unauthenticated data.
   */
  decrypt(envelope: string, aad?: string): Buffer;
  /**
   * For rotation: decrypts and returns the envelope encrypted under the current key. An envelope
   * already under the current key is verified and returned unchanged, so a migration can write back
   * only the rows where `reencrypt(value) !== value`.
   *
   * @throws DecryptionError like {@link Keyring.decrypt}.
   */
  reencrypt(envelope: string, aad?: string): string;
  /** Whether the envelope names the current key id (no decryption, no authentication). */
  isCurrent(envelope: string): boolean;
}

interface DerivedKeys {
  readonly keyId: string;
  subkey(purpose: SubkeyPurpose, length: number): Buffer;
}

function checkMasterKey(key: unknown, option: string): Buffer {
  if (!Buffer.isBuffer(key)) throw new TypeError(`createKeyring: ${option} must be a Buffer (use parseMasterKey to decode the base64url text)`);
  if (key.length < MASTER_KEY_MIN_BYTES || key.length > MASTER_KEY_MAX_BYTES) {
    throw new TypeError(`createKeyring: ${option} must be ${MASTER_KEY_MIN_BYTES}–${MASTER_KEY_MAX_BYTES} bytes, got ${key.length}`);
  }
  return Buffer.from(key);
}

function checkLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < SUBKEY_MIN_BYTES || length > SUBKEY_MAX_BYTES) {
    throw new TypeError(`subkey length must be an integer between ${SUBKEY_MIN_BYTES} and ${SUBKEY_MAX_BYTES}, got ${String(length)}`);
  }
}

function derive(master: Buffer, info: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', master, HKDF_SALT, Buffer.from(info, 'utf8'), length));
}

function derivedKeys(master: Buffer): DerivedKeys {
  const cache = new Map<string, Buffer>();
  return {
    keyId: derive(master, 'bulwark/v1/key-id', KEY_ID_BYTES).toString('hex'),
    subkey(purpose, length) {
      const cacheKey = `${length}:${purpose}`;
      let key = cache.get(cacheKey);
      if (key === undefined) {
        key = derive(master, `bulwark/v1/${purpose}`, length);
        cache.set(cacheKey, key);
      }
      return key;
    },
  };
}

/**
 * Creates the keyring every Bulwark component draws its keys from: one master key in, a separate
 * HKDF-SHA256 subkey per purpose out, plus authenticated encryption at rest. With a `previous` key,
 * data and tokens made before a rotation still decrypt and verify. See docs/crypto.md.
 *
 * @throws TypeError when a key is not a Buffer of 32–1024 bytes, or `previous` equals `current`.
 * @example
 * const keyring = createKeyring({ current: parseMasterKey(env.BULWARK_MASTER_KEY) });
 * const pepper = keyring.subkey('api-key-pepper');
 * const stored = keyring.encrypt(webhookSecret, `upstream:${id}`);
 * keyring.decrypt(stored, `upstream:${id}`).toString('utf8'); // webhookSecret
 */
export function createKeyring(options: KeyringOptions): Keyring {
  if (typeof options !== 'object' || options === null) throw new TypeError('createKeyring: options must be an object with a current key');
  const current = derivedKeys(checkMasterKey(options.current, 'current'));
  const previous = options.previous === undefined ? undefined : derivedKeys(checkMasterKey(options.previous, 'previous'));
  if (previous !== undefined && previous.keyId === current.keyId) {
    throw new TypeError('createKeyring: previous must be a different key than current (rotation needs a new key)');
  }

  const checkedPurpose = (purpose: SubkeyPurpose): SubkeyPurpose => {
    if (!isSubkeyPurpose(purpose)) throw new TypeError(`subkey purpose ${JSON.stringify(purpose)} is not a Bulwark purpose or an app:<name> purpose`);
    return purpose;
  };
  const encryptionKey = (keys: DerivedKeys): Buffer => keys.subkey('encryption-at-rest', 32);

  const keyring: Keyring = {
    keyId: current.keyId,
    previousKeyId: previous?.keyId,
    subkey(purpose, length = 32) {
      checkLength(length);
      return Buffer.from(current.subkey(checkedPurpose(purpose), length));
    },
    previousSubkey(purpose, length = 32) {
      checkLength(length);
      const key = previous?.subkey(checkedPurpose(purpose), length);
      return key === undefined ? undefined : Buffer.from(key);
    },
    encrypt(plaintext, aad) {
      if (typeof plaintext !== 'string' && !Buffer.isBuffer(plaintext)) throw new TypeError('encrypt: plaintext must be a Buffer or a string');
      if (aad !== undefined && typeof aad !== 'string') throw new TypeError('encrypt: aad must be a string');
      const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
      return sealEnvelope(encryptionKey(current), current.keyId, bytes, aad);
    },
    decrypt(envelope, aad) {
      if (aad !== undefined && typeof aad !== 'string') throw new TypeError('decrypt: aad must be a string');
      const parsed = parseEnvelope(envelope);
      const keys = parsed.keyId === current.keyId ? current : parsed.keyId === previous?.keyId ? previous : undefined;
      if (keys === undefined) {
        throw new DecryptionError(
          'unknown_key',
          `cannot decrypt: the envelope was encrypted under key id ${parsed.keyId}, which is neither the current (${current.keyId}) nor the previous master key${previous === undefined ? ' (none is set: BULWARK_MASTER_KEY_PREVIOUS)' : ` (${previous.keyId})`}`,
        );
      }
      return openEnvelope(encryptionKey(keys), parsed, aad);
    },
    reencrypt(envelope, aad) {
      const plaintext = keyring.decrypt(envelope, aad);
      try {
        return parseEnvelope(envelope).keyId === current.keyId ? envelope : keyring.encrypt(plaintext, aad);
      } finally {
        plaintext.fill(0);
      }
    },
    isCurrent(envelope) {
      return typeof envelope === 'string' && envelope.startsWith(`v1.${current.keyId}.`);
    },
  };
  return Object.freeze(keyring);
}
