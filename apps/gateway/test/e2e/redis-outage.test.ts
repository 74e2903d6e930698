import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestGateway, type TestGateway } from '../support/gateway.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { assertSafe } from '../support/security-suite.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** Redis goes down under a running gateway: each limit follows its onStoreFailure, readiness fails. */

let redis: OwnRedis;
let upstream: TestUpstream;
let gateway: TestGateway;
let key: string;

beforeAll(async () => {
  redis = await startOwnRedis();
  upstream = await startUpstream();
  gateway = await startTestGateway({
    config: {
      redis: { url: redis.url, timeoutMs: 100 },
      upstreams: { api: { url: upstream.url } },
      defaults: { auth: { type: 'apiKey' } },
      routes: [
        { name: 'local', match: { prefix: '/local' }, upstream: 'api', rateLimits: [{ name: 'fallback-local', limit: 100, window: '1m', by: 'apiKey', onStoreFailure: 'local' }] },
        { name: 'closed', match: { prefix: '/closed' }, upstream: 'api', rateLimits: [{ name: 'fail-closed', limit: 100, window: '1m', by: 'apiKey', onStoreFailure: 'closed' }] },
        { name: 'open', match: { prefix: '/open' }, upstream: 'api', rateLimits: [{ name: 'fail-open', limit: 100, window: '1m', by: 'apiKey', onStoreFailure: 'open' }] },
      ],
    },
  });
  ({ key } = await gateway.createKey([]));
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
  await redis.stop();
});

describe('Redis outage', () => {
  it('limits follow their onStoreFailure (local allows within the local share, closed answers 503, open allows) and readiness fails', async () => {
    const headers = { 'x-api-key': key };
    for (const path of ['/local/x', '/closed/x', '/open/x']) expect((await send(`${gateway.url}${path}`, { headers })).status, path).toBe(200);
    expect((await send(`${gateway.url}/health/ready`)).status).toBe(200);

    await redis.stop();

    expect((await send(`${gateway.url}/local/x`, { headers })).status).toBe(200);
    const closed = await send(`${gateway.url}/closed/x`, { headers });
    assertSafe(closed, 'fail-closed');
    expect(closed.status).toBe(503);
    expect(closed.json().code).toBe('RATE_LIMIT_STORE_UNAVAILABLE');
    expect(closed.headers['retry-after']).toMatch(/^\d+$/);
    expect((await send(`${gateway.url}/open/x`, { headers })).status).toBe(200);

    let ready = await send(`${gateway.url}/health/ready`);
    const deadline = Date.now() + 5000;
    while (ready.status !== 503 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      ready = await send(`${gateway.url}/health/ready`);
    }
    expect(ready.status).toBe(503);
    expect(ready.json<{ checks: Record<string, string> }>().checks.redis).toBe('down');
  });
});
