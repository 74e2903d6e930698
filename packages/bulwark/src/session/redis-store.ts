import type { Cluster, Redis } from 'ioredis';
import { resolveSessionOptions, type SessionStoreOptions } from './options.js';
import { createRedisBackend } from './redis-backend.js';
import { createSessionStore } from './session-store.js';
import type { SecureSessionStore } from './types.js';
import { integerIn } from './validate.js';

export interface RedisSessionStoreOptions extends SessionStoreOptions {
  /** An ioredis client (`Redis` or `Cluster`); the store never closes it. */
  readonly client: Redis | Cluster;
  /** Prefix of every key (no `{` or `}`: the store adds its own hash tags). @default 'bw:sess:' */
  readonly keyPrefix?: string;
  /** Deadline of each Redis call; past it the call fails with a `SessionStoreError`, 1–60000 ms. @default 1000 */
  readonly timeoutMs?: number;
}

const KEY_PREFIX = /^[\x21-\x7a\x7c\x7e]{0,64}$/;

/**
 * The session store on Redis (or Valkey, or Redis Cluster): every operation one atomic Lua script,
 * all keys of a user in one Cluster slot, expiry decided against the store's clock. See
 * docs/session.md for the key layout.
 *
 * @throws TypeError naming the option when one is out of range.
 * @example
 * const store = createRedisSessionStore({
 *   client: new Redis(process.env.REDIS_URL),
 *   keyring: createKeyring({ current: parseMasterKey(env.BULWARK_MASTER_KEY) }),
 *   ipBinding: { ipv4PrefixBits: 24, ipv6PrefixBits: 48 },
 * });
 */
export function createRedisSessionStore(options: RedisSessionStoreOptions): SecureSessionStore {
  const factory = 'createRedisSessionStore';
  const resolved = resolveSessionOptions(factory, options);
  const client = options.client as Partial<Redis> | undefined;
  if (typeof client !== 'object' || client === null || typeof client.evalsha !== 'function' || typeof client.eval !== 'function') {
    throw new TypeError(`${factory}: client must be an ioredis Redis or Cluster client`);
  }
  const keyPrefix = options.keyPrefix ?? 'bw:sess:';
  if (typeof keyPrefix !== 'string' || !KEY_PREFIX.test(keyPrefix)) {
    throw new TypeError(`${factory}: keyPrefix must be up to 64 printable characters without spaces, '{' or '}'`);
  }
  const timeoutMs = integerIn(factory, 'timeoutMs', options.timeoutMs, 1000, 1, 60_000);
  return createSessionStore(resolved, createRedisBackend({ client: options.client, keyPrefix, timeoutMs }));
}
