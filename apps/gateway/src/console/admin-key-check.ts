import { apiKeyStatus, type KeyStore, type RevocationBus } from 'bulwark/auth';
import { hasScopes } from '../auth/identity.js';

/**
 * Whether the admin key behind a console session still works: not revoked, not expired, out of its
 * rotation grace, still holding the admin scope. A console session never holds the key itself, only
 * its id, so every request re-checks the id. Answers are cached for `ttlMs` (as the API key
 * verifier caches keys) and dropped at once when the revocation bus says the key changed — on every
 * instance, within the broadcast delay.
 */
export interface AdminKeyCheck {
  /** Whether key `keyId` may still use the admin API. Rejects only when the key store fails. */
  isUsable(keyId: string): Promise<boolean>;
  /** Stops listening to revocations. */
  close(): void;
}

export interface AdminKeyCheckOptions {
  readonly keyStore: Pick<KeyStore, 'get'>;
  readonly revocation: Pick<RevocationBus, 'subscribe'>;
  /** The scope the admin API needs. */
  readonly scope: string;
  /** @default 5000 */
  readonly ttlMs?: number;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** Key ids cached at most: console sessions belong to a handful of admin keys. */
const MAX_CACHED = 1000;

interface Cached {
  readonly usable: boolean;
  /** Until when the answer may be reused: the TTL, or sooner when the key expires first. */
  readonly untilMs: number;
}

export function createAdminKeyCheck(options: AdminKeyCheckOptions): AdminKeyCheck {
  const ttlMs = options.ttlMs ?? 5000;
  const now = options.now ?? (() => Date.now());
  const cache = new Map<string, Cached>();
  const unsubscribe = options.revocation.subscribe((event) => {
    if (event.type === 'resync') cache.clear();
    else for (const id of event.keyIds) cache.delete(id);
  });

  return {
    async isUsable(keyId) {
      const at = now();
      const cached = cache.get(keyId);
      if (cached !== undefined && cached.untilMs > at) return cached.usable;
      const record = await options.keyStore.get(keyId);
      const usable = record !== undefined && apiKeyStatus(record, at) === 'active' && hasScopes(record.scopes, [options.scope]);
      const endsAt = Math.min(record?.expiresAt?.getTime() ?? Infinity, record?.graceUntil?.getTime() ?? Infinity);
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(keyId, { usable, untilMs: Math.min(at + ttlMs, endsAt) });
      return usable;
    },
    close: unsubscribe,
  };
}
