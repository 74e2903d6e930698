/**
 * Redis killed mid-run (a redis-server of this test's own, on its own port): decisions keep coming
 * within the timeout, nothing rejects unhandled, each onStoreFailure behaves as declared, the
 * breaker opens, and everything returns to Redis after it is restarted. The breakers and the
 * hysteresis run on a manual clock; only process start/stop and the store timeout are real time.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/observability/metrics-registry.js';
import { createMemoryStore, createRateLimiter, createRedisStore, createResilientStore, RATE_LIMIT_REDIS_OPTIONS, type RateLimitDecision, type StoreFailurePolicy } from '../../src/ratelimit/index.js';
import { manualClock } from './support/definitions.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { connected } from './support/shared-redis.js';

const TIMEOUT_MS = 80;
/** Far above the store timeout: a decision slower than this means something hung. */
const HANG_GUARD_MS = 3000;

function withinGuard(decision: Promise<RateLimitDecision>): Promise<RateLimitDecision> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`a decision took longer than ${HANG_GUARD_MS} ms`)), HANG_GUARD_MS);
  });
  return Promise.race([decision, guard]).finally(() => clearTimeout(timer));
}

describe('Redis killed mid-run', () => {
  let server: RedisServer;
  let client: Redis;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    server = await startRedisServer();
    // Reconnect quickly, so the restart below is noticed without a long real wait.
    client = new Redis({ host: '127.0.0.1', port: server.port, ...RATE_LIMIT_REDIS_OPTIONS, retryStrategy: () => 50 });
    client.on('error', () => undefined); // connection errors are expected here; the store counts them
    await connected(client);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    client.disconnect();
    await server.stop();
  });

  it('keeps deciding as declared, opens the breaker, and recovers when Redis returns', async () => {
    const clock = manualClock(0);
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const redis = createRedisStore({ client, timeoutMs: TIMEOUT_MS, registry });
    const store = createResilientStore({ redis, local: createMemoryStore({ registry }), minFallbackMs: 10_000, breaker: { failureThreshold: 3, resetTimeoutMs: 1000, halfOpenRequests: 1 }, now: clock.now, registry });
    const make = (policy: StoreFailurePolicy) => createRateLimiter({ name: `kill-${policy}`, algorithm: 'sliding-window', limit: 1000, windowMs: 60_000, store, onStoreFailure: policy, blockCache: false, registry });
    const limiters = { local: make('local'), closed: make('closed'), open: make('open') };
    const round = () => Promise.all(Object.values(limiters).map((limiter) => withinGuard(limiter.consume('tenant-1'))));

    for (const decision of await round()) expect(decision.reason).toBe('ok');

    // Kill Redis while a wave of decisions is in flight.
    const inFlight = Array.from({ length: 30 }, () => round());
    await server.kill();
    const during = (await Promise.all(inFlight)).flat();
    expect(during).toHaveLength(90);

    // Enough failures to open the (manual-clock) breaker; from then on Redis is not even asked.
    for (let index = 0; index < 3; index += 1) await round();
    const [local, closed, open] = await round();
    expect(local).toMatchObject({ allowed: true, reason: 'fallback' });
    expect(closed).toMatchObject({ allowed: false, reason: 'circuit_open' });
    expect(closed!.retryAfterMs).toBeGreaterThan(0);
    expect(open).toMatchObject({ allowed: true, reason: 'circuit_open' });
    expect(store.stats().nodes[0]).toMatchObject({ route: 'fallback', breaker: 'open' });
    // The wave in flight at the kill: each got an answer, from Redis or by its policy.
    for (const decision of during) expect(['ok', 'fallback', 'store_unavailable', 'circuit_open']).toContain(decision.reason);

    await server.restart();
    await connected(client);
    clock.advance(10_000); // past the hysteresis: the next call is the half-open probe
    const [probe] = await round();
    expect(probe!.reason).toBe('ok');
    for (const decision of await round()) expect(decision.reason).toBe('ok');
    expect(store.stats().nodes[0]).toMatchObject({ route: 'redis', breaker: 'closed' });
    expect(unhandled).toEqual([]);
    const text = await registry.metrics();
    expect(text).toMatch(/ratelimit_store_errors_total\{store="redis",kind="(connection|timeout)"\} \d+/);
    expect(text).toContain('ratelimit_decisions_total{limiter="kill-open",result="circuit_open_allowed"}');
  });
});
