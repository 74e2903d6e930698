import { createHmac } from 'node:crypto';

/** Smallest pepper accepted: the size of the HMAC-SHA256 block's security level. */
export const PEPPER_MIN_BYTES = 32;

/**
 * The stored form of an API key: HMAC-SHA256 under a server-side pepper, in hex. A database dump
 * alone cannot be used to test guesses (the pepper is not in the database), and the key itself is
 * never stored. Keys carry 256 random bits, so a slow password hash would add cost without adding
 * security.
 */
export function hashApiKey(pepper: Buffer, key: string): string {
  return createHmac('sha256', pepper).update(key, 'utf8').digest('hex');
}

/** Validates a pepper option once, at construction. */
export function checkPepper(value: unknown, option: string): Buffer {
  if (!Buffer.isBuffer(value) || value.length < PEPPER_MIN_BYTES) {
    throw new TypeError(`${option} must be a Buffer of at least ${PEPPER_MIN_BYTES} bytes (keyring.subkey('api-key-pepper'))`);
  }
  return Buffer.from(value);
}

/** The peppers a keyring provides: the current one, and the previous one during a master-key rotation. */
export interface ApiKeyPeppers {
  readonly pepper: Buffer;
  readonly previousPepper?: Buffer;
}

/** The part of a `bulwark/crypto` keyring this module needs (a `Keyring` satisfies it). */
export interface PepperSource {
  subkey(purpose: 'api-key-pepper'): Buffer;
  previousSubkey(purpose: 'api-key-pepper'): Buffer | undefined;
}

/**
 * The API-key peppers derived from a keyring, ready to spread into the store and verifier options.
 *
 * @example
 * const keyring = createKeyring({ current: parseMasterKey(env.BULWARK_MASTER_KEY) });
 * const verifier = createApiKeyVerifier({ store, ...apiKeyPeppers(keyring) });
 */
export function apiKeyPeppers(keyring: PepperSource): ApiKeyPeppers {
  const previous = keyring.previousSubkey('api-key-pepper');
  const pepper = keyring.subkey('api-key-pepper');
  return previous === undefined ? { pepper } : { pepper, previousPepper: previous };
}
