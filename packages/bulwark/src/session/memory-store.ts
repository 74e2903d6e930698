import { createMemoryBackend } from './memory-backend.js';
import { resolveSessionOptions, type SessionStoreOptions } from './options.js';
import { createSessionStore } from './session-store.js';
import type { SecureSessionStore } from './types.js';
import { integerIn } from './validate.js';

export interface MemorySessionStoreOptions extends SessionStoreOptions {
  /** The most sessions kept; beyond it the least recently used is dropped, 1 – 10 000 000. @default 100000 */
  readonly maxSessions?: number;
  /** The most lockout records kept; beyond it the oldest is dropped, 1 – 10 000 000. @default 100000 */
  readonly maxLockouts?: number;
}

/**
 * The session store in process memory: for development, tests and single-instance deployments
 * (sessions die with the process and are not shared between instances; use
 * {@link createRedisSessionStore} otherwise). Same behaviour as the Redis store, bounded in size.
 *
 * @throws TypeError naming the option when one is out of range.
 * @example
 * const store = createMemorySessionStore({ keyring: createKeyring({ current: parseMasterKey(env.BULWARK_MASTER_KEY) }) });
 * const login = await store.create({ tenant: 'default', userId: user.id, context: { ip, headers: req.headers } });
 */
export function createMemorySessionStore(options: MemorySessionStoreOptions): SecureSessionStore {
  const resolved = resolveSessionOptions('createMemorySessionStore', options);
  const maxSessions = integerIn('createMemorySessionStore', 'maxSessions', options.maxSessions, 100_000, 1, 10_000_000);
  const maxLockouts = integerIn('createMemorySessionStore', 'maxLockouts', options.maxLockouts, 100_000, 1, 10_000_000);
  return createSessionStore(resolved, createMemoryBackend({ maxSessions, maxLockouts }));
}
