import { apiKeyStatus, ed25519SignatureKey, hmacSignatureKey, type KeyStore, type RevocationBus, type SignatureKey } from 'bulwark/auth';
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
  /** How long a store answer is trusted (bounds revocation staleness without the bus). @default 5000 */
  readonly ttlMs?: number;
  /** Cached answers, found and not found. @default 10000 */
  readonly maxSize?: number;
  readonly now?: () => number;
}

/**
 * Where RFC 9421 verification keys come from: static keys of the config (prepared once, so a bad
 * key stops start-up) and request-signing API keys of the key store, looked up on first use and
 * cached briefly (bounded; revoked, expired and rotated-out keys are refused).
 */
export function createSigningKeyDirectory(options: SigningKeyDirectoryOptions): SigningKeyDirectory {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? 5000;
  const maxSize = options.maxSize ?? 10_000;
  const configured = new Map<string, SigningKeyEntry>();
  for (const [keyId, config] of Object.entries(options.configKeys)) {
    const key = config.algorithm === 'hmac-sha256' ? hmacSignatureKey(keyId, config.secret ?? '') : ed25519SignatureKey(keyId, config.publicKey ?? '');
    configured.set(keyId, { key, tenant: config.tenant, scopes: config.scopes });
  }
  const cache = new Map<string, { readonly entry: SigningKeyEntry | undefined; readonly until: number }>();
  const unsubscribe = options.revocation?.subscribe((event) => {
    if (event.type === 'resync') cache.clear();
    else for (const id of event.keyIds) cache.delete(id);
  });

  const fromStore = async (keyId: string): Promise<SigningKeyEntry | undefined> => {
    const material = await options.store?.signingKey(keyId);
    if (material === undefined || apiKeyStatus(material.record, now()) !== 'active') return undefined;
    // The HMAC key is the secret as the key store showed it (base64url text, used as UTF-8 bytes),
    // the same convention as `signatureKeys` in the config and `bulwark sign --secret-env`.
    const key = material.algorithm === 'hmac-sha256' ? hmacSignatureKey(keyId, material.secret.toString('base64url')) : ed25519SignatureKey(keyId, material.publicKey);
    return { key, tenant: material.record.tenant, scopes: material.record.scopes };
  };

  return {
    async lookup(keyId) {
      const fixed = configured.get(keyId);
      if (fixed !== undefined || options.store === undefined) return fixed;
      const cached = cache.get(keyId);
      if (cached !== undefined && cached.until > now()) return cached.entry;
      const entry = await fromStore(keyId);
      cache.delete(keyId);
      cache.set(keyId, { entry, until: now() + ttlMs });
      if (cache.size > maxSize) {
        const oldest = cache.keys().next();
        if (oldest.done !== true) cache.delete(oldest.value);
      }
      return entry;
    },
    close() {
      unsubscribe?.();
      cache.clear();
    },
  };
}
