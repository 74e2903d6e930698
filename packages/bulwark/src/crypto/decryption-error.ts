/**
 * Why an envelope could not be decrypted:
 * - `malformed`: not of the form `v1.<keyId>.<iv>.<ciphertext>.<tag>` (truncated, not base64url,
 *   wrong IV or tag length, empty);
 * - `unsupported_version`: a version prefix other than `v1`;
 * - `unknown_key`: encrypted under a key that is neither the current nor the previous master key;
 * - `authentication_failed`: the GCM tag does not verify — the ciphertext, IV, tag or key id was
 *   altered, or the AAD differs from the one used to encrypt.
 */
export type DecryptionFailureReason = 'malformed' | 'unsupported_version' | 'unknown_key' | 'authentication_failed';

/**
 * Thrown by `Keyring.decrypt` for any envelope it cannot authenticate. It never carries key
 * material or plaintext; the message names the reason and, for `unknown_key`, the (public) key id.
 */
export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
  readonly reason: DecryptionFailureReason;

  constructor(reason: DecryptionFailureReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Whether `value` is a {@link DecryptionError} (also across module copies). */
export function isDecryptionError(value: unknown): value is DecryptionError {
  return value instanceof DecryptionError || (value instanceof Error && value.name === 'DecryptionError' && 'reason' in value);
}
