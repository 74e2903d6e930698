import { createSigningKeyLookup, ed25519SignatureKey, hmacSignatureKey, type KeyStore, type RevocationBus, type SignatureKey } from 'bulwark/auth';
import type { LoggerLike } from 'bulwark/observability';
import type { SignatureKeyConfig } from '../config/auth-schema.js';

/** A signing key with the identity its signatures carry. */
export interface SigningKeyEntry {
  readonly key: SignatureKey;
  readonly tenant: string | undefined;
  readonly scopes: readonly string[];
}

export interface SigningKeyDirectory {
  /** The key of `keyId`, from the config (`signatureKeys`) or the key store (active signing keys only). */
  lookup(keyId: string): Promise<SigningKeyEntry | undefined>;
  close(): void;
}

export interface SigningKeyDirectoryOptions {
  readonly configKeys: Readonly<Record<string, SignatureKeyConfig>>;
  /** API keys with signing material (`bulwark keys create --signing`). */
  readonly store?: Pick<KeyStore, 'signingKey'> | undefined;
  /** Revocations and rotations drop keys from the cache at once. */
  readonly revocation?: RevocationBus | undefined;
  readonly logger?: LoggerLike | undefined;
  readonly now?: () => number;
}

/**
 * Where RFC 9421 verification keys come from: static keys of the config (prepared once, so a bad
 * key stops start-up) and request-signing API keys of the key store, through bulwark/auth's
 * `createSigningKeyLookup` (cached briefly and bounded; revoked, expired and rotated-out keys are
 * refused; the HMAC key is the `signingSecret` text, as `bulwark sign` and `createSigner` use it).
 */
export function createSigningKeyDirectory(options: SigningKeyDirectoryOptions): SigningKeyDirectory {
  const configured = new Map<string, SigningKeyEntry>();
  for (const [keyId, config] of Object.entries(options.configKeys)) {
    const key = config.algorithm === 'hmac-sha256' ? hmacSignatureKey(keyId, config.secret ?? '') : ed25519SignatureKey(keyId, config.publicKey ?? '');
    configured.set(keyId, { key, tenant: config.tenant, scopes: config.scopes });
  }
  const fromStore =
    options.store === undefined ? undefined : createSigningKeyLookup({ store: options.store, revocation: options.revocation, logger: options.logger, now: options.now });

  return {
    async lookup(keyId) {
      const fixed = configured.get(keyId);
      if (fixed !== undefined || fromStore === undefined) return fixed;
      return fromStore.owner(keyId);
    },
    close() {
      fromStore?.close();
    },
  };
}
