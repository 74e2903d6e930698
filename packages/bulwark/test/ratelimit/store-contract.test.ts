import { createMetricsRegistry } from '../../src/observability/metrics-registry.js';
import { createMemoryStore } from '../../src/ratelimit/memory-store.js';
import { createRedisStore } from '../../src/ratelimit/redis-store.js';
import { createResilientStore } from '../../src/ratelimit/resilient-store.js';
import { manualClock } from './support/definitions.js';
import { connected, deleteNamespace, storeClient, uniqueNamespace } from './support/shared-redis.js';
import { storeContract } from './support/store-contract.js';

const quiet = () => createMetricsRegistry({ defaultMetrics: false });

storeContract('memory', async () => {
  const clock = manualClock();
  const store = createMemoryStore({ now: clock.now, registry: quiet() });
  return { store, advance: clock.advance, close: async () => store.destroy() };
});

storeContract('redis', async () => {
  const clock = manualClock();
  const client = await connected(storeClient());
  const namespace = uniqueNamespace('contract');
  const store = createRedisStore({ client, clock: 'client', now: clock.now, namespace, timeoutMs: 2000, registry: quiet() });
  return {
    store,
    advance: clock.advance,
    close: async () => {
      await deleteNamespace(client, namespace);
      client.disconnect();
    },
  };
});

storeContract('resilient (over redis)', async () => {
  const clock = manualClock();
  const client = await connected(storeClient());
  const namespace = uniqueNamespace('contract-resilient');
  const registry = quiet();
  const redis = createRedisStore({ client, clock: 'client', now: clock.now, namespace, timeoutMs: 2000, registry });
  const local = createMemoryStore({ now: clock.now, registry });
  const store = createResilientStore({ redis, local, registry });
  return {
    store,
    advance: clock.advance,
    close: async () => {
      local.destroy();
      await deleteNamespace(client, namespace);
      client.disconnect();
    },
  };
});
