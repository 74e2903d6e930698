import type { ServerResponse } from 'node:http';
import Fastify from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { problemErrorsPlugin, rateLimitPlugin } from '../../src/fastify/index.js';
import { createMetricsRegistry } from '../../src/observability/metrics-registry.js';
import { createConcurrencyLimiter, createMemoryStore, createTieredLimiters, keyBy } from '../../src/ratelimit/index.js';
import { FakeRemoteStore } from './support/fake-stores.js';

const quiet = () => createMetricsRegistry({ defaultMetrics: false });

async function appWithTiers(extra: { concurrencyLimit?: number } = {}) {
  const store = createMemoryStore({ registry: quiet() });
  const tiers = createTieredLimiters({
    store,
    tiers: { general: { limit: 3, windowMs: 900_000 }, chat: { limit: 1, windowMs: 60_000, algorithm: 'fixed-window' } },
    defaults: { registry: quiet() },
  });
  const app = Fastify();
  await app.register(problemErrorsPlugin);
  await app.register(rateLimitPlugin, {
    tiers,
    defaultTier: 'general',
    key: keyBy.ip(),
    ...(extra.concurrencyLimit === undefined ? {} : { concurrency: createConcurrencyLimiter({ name: 'in-flight', limit: extra.concurrencyLimit, store, registry: quiet() }) }),
  });
  app.get('/items', async () => ({ ok: true }));
  app.post('/chat', { config: { rateLimitTier: 'chat' } }, async () => ({ ok: true }));
  app.get('/health', { config: { rateLimitTier: false } }, async () => ({ ok: true }));
  app.get('/typo', { config: { rateLimitTier: 'chta' } }, async () => ({ ok: true }));
  return app;
}

describe('Fastify rate-limit plugin', () => {
  it('applies each route\'s tier and answers 429 problem+json with Retry-After and the IETF fields', async () => {
    const app = await appWithTiers();
    const chat = await app.inject({ method: 'POST', url: '/chat' });
    expect(chat.statusCode).toBe(200);
    expect(chat.headers['ratelimit-policy']).toBe('"tier.chat";q=1;w=60');
    const limited = await app.inject({ method: 'POST', url: '/chat' });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    // The general tier is separate, and routes opt out with rateLimitTier: false.
    expect((await app.inject({ method: 'GET', url: '/items' })).headers['ratelimit']).toMatch(/^"tier\.general";r=2;t=\d+$/);
    for (let index = 0; index < 5; index += 1) expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    await app.close();
  });

  it('fails loudly (500, logged) for a route naming an unknown tier rather than leaving it unlimited', async () => {
    const app = await appWithTiers();
    const response = await app.inject({ method: 'GET', url: '/typo' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject({ code: 'INTERNAL_ERROR' });
    await app.close();
  });

  it('limits requests in progress with the concurrency option, releasing when the response closes', async () => {
    const app = await appWithTiers({ concurrencyLimit: 1 });
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    app.get('/slow', async () => {
      entered();
      await gate;
      return { ok: true };
    });
    const slow = app.inject({ method: 'GET', url: '/slow' });
    await inside;
    const refused = await app.inject({ method: 'GET', url: '/items' });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'CONCURRENCY_LIMITED' });
    open();
    expect((await slow).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/items' })).statusCode).toBe(200);
    await app.close();
  });

  it('gives the concurrency slot back, and runs nothing, when the client goes away while the store decides', async () => {
    const store = new FakeRemoteStore();
    let openGate: () => void = () => undefined;
    store.leaseGate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    const concurrency = createConcurrencyLimiter({ name: 'uploads', limit: 1, store, registry: quiet() });
    const tiers = createTieredLimiters({ store: createMemoryStore({ registry: quiet() }), tiers: { general: { limit: 100, windowMs: 60_000 } }, defaults: { registry: quiet() } });
    const app = Fastify({ forceCloseConnections: true }); // the aborting client may leave an idle connection
    await app.register(rateLimitPlugin, { tiers, defaultTier: 'general', key: keyBy.ip(), concurrency });
    let serverSawClose: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => {
      serverSawClose = resolve;
    });
    app.server.on('request', (_req, res: ServerResponse) => {
      res.once('close', serverSawClose);
    });
    const handler = vi.fn(async () => ({ ok: true }));
    app.get('/upload', handler);
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const aborted = new AbortController();
    const request = fetch(`${base}/upload`, { signal: aborted.signal }).catch(() => 'aborted');
    while (store.calls === 0) await new Promise((resolve) => setImmediate(resolve));
    aborted.abort();
    expect(await request).toBe('aborted');
    await closed;
    openGate(); // the lease is granted only now, after the response closed
    for (let turn = 0; turn < 1000 && (await concurrency.peek('ip:127.0.0.1')).remaining === 0; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    expect((await concurrency.peek('ip:127.0.0.1')).remaining).toBe(1);
    expect(handler).not.toHaveBeenCalled();
    await app.close();
  });

  it('validates its options at registration', async () => {
    const app = Fastify();
    await expect(app.register(rateLimitPlugin, { tiers: {}, key: keyBy.ip() }).ready()).rejects.toThrow(/tiers must name at least one limiter/);
    const other = Fastify();
    const tiers = createTieredLimiters({ store: createMemoryStore({ registry: quiet() }), defaults: { registry: quiet() } });
    await expect(other.register(rateLimitPlugin, { tiers, defaultTier: 'premium', key: keyBy.ip() }).ready()).rejects.toThrow(/defaultTier "premium" is not one of the tiers/);
  });
});
