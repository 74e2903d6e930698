/**
 * The machine's shared Redis (127.0.0.1:6379) for tests that only need a working Redis: every run
 * uses its own key namespace and deletes exactly those keys afterwards (never FLUSHALL).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RATE_LIMIT_REDIS_OPTIONS } from '../../../src/ratelimit/redis-store.js';

export const SHARED_REDIS_PORT = 6379;

export function uniqueNamespace(label: string): string {
  return `bw-test:${label}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** A client configured as the store expects. */
export function storeClient(port = SHARED_REDIS_PORT): Redis {
  return new Redis({ host: '127.0.0.1', port, ...RATE_LIMIT_REDIS_OPTIONS, lazyConnect: false });
}

/** Waits until `client` is connected (the store never queues, so tests wait before the first call). */
export async function connected(client: Redis): Promise<Redis> {
  if (client.status === 'ready') return client;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Redis did not become ready within 5 s')), 5000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return client;
}

/** Deletes every key of a namespace (the keys a test created). */
export async function deleteNamespace(client: Redis, namespace: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${namespace}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}
