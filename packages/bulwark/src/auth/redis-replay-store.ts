import { assertReplayArguments, replayKey, type ReplayStore } from './replay-store.js';

/**
 * The two Redis commands the store sends. An ioredis `Redis` or `Cluster` satisfies it (as does any
 * client with the same `set` and `del` signatures), so the store does not import a Redis client itself.
 */
export interface ReplayRedisClient {
  set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number, nx: 'NX'): Promise<string | null>;
  del(key: string): Promise<number>;
}

export interface RedisReplayStoreOptions {
  /** The Redis client (ioredis `Redis` or `Cluster`). */
  readonly client: ReplayRedisClient;
  /**
   * Prefix of every key, so that several applications (or test runs) can share a Redis. Keys are
   * `<prefix><namespace>:<id>` with both parts escaped. @default 'bulwark:replay:'
   */
  readonly prefix?: string;
}

const DEFAULT_PREFIX = 'bulwark:replay:';

/**
 * A replay store shared by every instance: `SET key 1 NX PX ttl` records the id and tells whether it
 * was already there in one atomic command, so two instances receiving the same nonce at the same
 * moment cannot both accept it. Redis expires the keys itself. A Redis error rejects the promise;
 * verifiers turn that into a failure (`unavailable`), never into an acceptance.
 *
 * @throws TypeError when `client` has no `set` or `del` method or `prefix` is not a string.
 * @example
 * import { Redis } from 'ioredis';
 * const replayStore = createRedisReplayStore({ client: new Redis(process.env.REDIS_URL!), prefix: 'api:replay:' });
 */
export function createRedisReplayStore(options: RedisReplayStoreOptions): ReplayStore {
  const client = options.client as ReplayRedisClient | undefined;
  if (client === undefined || client === null || typeof client.set !== 'function' || typeof client.del !== 'function') {
    throw new TypeError('client must be a Redis client with set() and del() methods (ioredis Redis or Cluster)');
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string') throw new TypeError('prefix must be a string');

  return {
    async checkAndStore(namespace, id, ttlMs) {
      assertReplayArguments(namespace, id, ttlMs);
      const reply = await client.set(`${prefix}${replayKey(namespace, id)}`, '1', 'PX', ttlMs, 'NX');
      // `OK` when the key was set (first use); `null` when NX found it already there.
      return reply !== null;
    },
    async release(namespace, id) {
      assertReplayArguments(namespace, id, 1);
      await client.del(`${prefix}${replayKey(namespace, id)}`);
    },
  };
}
