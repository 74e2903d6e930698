/**
 * A Redis Cluster of three masters on loopback (started by the test, stopped by pid): every session
 * script touches several keys of one user — session, index, lockout, renewal pointer — and must run
 * without CROSSSLOT errors on whichever node owns that user's hash tag.
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type RedisServer } from '../../test/ratelimit/support/redis-server.js';
import { createKeyring, generateMasterKey, parseMasterKey } from '../crypto/index.js';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { createRedisSessionStore } from './redis-store.js';
import type { SessionRequestContext } from './types.js';

const context: SessionRequestContext = { ip: '192.0.2.7', headers: { 'user-agent': 'cluster-test' } };

describe('sessions on a Redis Cluster of three masters', () => {
  let cluster: { readonly nodes: readonly RedisServer[]; stop(): Promise<void> };
  let client: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const [first] = cluster.nodes;
    if (first === undefined) throw new Error('no cluster node');
    client = new Cluster([{ host: '127.0.0.1', port: first.port }], { enableAutoPipelining: true, redisOptions: { maxRetriesPerRequest: 1 } });
    await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it('runs every operation for users spread over all three nodes', async () => {
    const store = createRedisSessionStore({ client, keyring: createKeyring({ current: parseMasterKey(generateMasterKey()) }), registry: createMetricsRegistry({ defaultMetrics: false }), lockout: { threshold: 2 }, timeoutMs: 5000 });
    const users = Array.from({ length: 30 }, (_, index) => ({ tenant: 'acme', userId: `user-${index}` }));
    const nodes = new Set<string>();
    for (const user of users) {
      const created = await store.create({ ...user, data: { n: 0 }, context });
      const second = await store.create({ ...user, context });
      if (!created.ok || !second.ok) throw new Error('create failed');
      const slot = client.slots[Number(await client.cluster('KEYSLOT', `{${created.token.split('.')[0]}}`))];
      nodes.add(slot?.[0] ?? 'unknown');
      expect((await store.validate(created.token, context)).valid).toBe(true);
      expect(await store.modify(created.token, (data) => ({ n: Number(data.n) + 1 }))).toMatchObject({ ok: true });
      const renewed = await store.renew(created.token, context);
      if (!renewed.ok) throw new Error('renew failed');
      expect((await store.validate(created.token, context)).valid).toBe(true);
      const regenerated = await store.regenerate(renewed.token, { context });
      if (!regenerated.ok) throw new Error('regenerate failed');
      expect((await store.validate(created.token, context)).valid).toBe(false);
      expect(await store.list(user)).toHaveLength(2);
      expect(await store.revokeAll(user, { exceptToken: regenerated.token })).toBe(1);
      await store.recordFailure(user);
      expect(await store.recordFailure(user)).toMatchObject({ locked: true });
      expect(await store.validate(regenerated.token, context)).toEqual({ valid: false, reason: 'locked' });
      expect(await store.deleteUser(user)).toBe(1);
      expect(await store.lockoutStatus(user)).toMatchObject({ locked: false });
    }
    expect(nodes.size).toBe(3);
  });
});
