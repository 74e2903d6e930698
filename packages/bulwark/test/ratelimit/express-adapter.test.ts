// Loads Express's CommonJS dependencies as in production under vitest's resolve conditions (see the file).
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { concurrencyLimit, problemErrorHandler, rateLimit } from '../../src/express/index.js';
import { createMetricsRegistry } from '../../src/observability/metrics-registry.js';
import { createConcurrencyLimiter, createMemoryStore, createMultiLimiter, createRateLimiter, createTieredLimiters, keyBy } from '../../src/ratelimit/index.js';
import { FakeRemoteStore } from './support/fake-stores.js';

const quiet = () => createMetricsRegistry({ defaultMetrics: false });
let server: Server | undefined;

async function serve(app: express.Express): Promise<string> {
  server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  // A client that gave up may leave a connection it opened ahead (undici): do not wait out its keep-alive.
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

describe('Express rateLimit middleware', () => {
  it('sets the IETF fields, then answers 429 problem+json with Retry-After', async () => {
    const tiers = createTieredLimiters({ store: createMemoryStore({ registry: quiet() }), tiers: { chat: { limit: 2, windowMs: 60_000, algorithm: 'fixed-window' } }, defaults: { registry: quiet() } });
    const app = express();
    app.post('/chat', rateLimit({ limiter: tiers.chat, key: keyBy.ip(), legacyHeaders: true }), (_req, res) => {
      res.json({ ok: true });
    });
    app.use(problemErrorHandler());
    const base = await serve(app);
    const first = await fetch(`${base}/chat`, { method: 'POST' });
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).toBe('"tier.chat";q=2;w=60');
    expect(first.headers.get('ratelimit')).toMatch(/^"tier\.chat";r=1;t=\d+$/);
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    await fetch(`${base}/chat`, { method: 'POST' });
    const third = await fetch(`${base}/chat`, { method: 'POST' });
    expect(third.status).toBe(429);
    expect(third.headers.get('content-type')).toContain('application/problem+json');
    const retryAfter = Number(third.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(third.headers.get('ratelimit')).toMatch(/r=0/);
    expect(await third.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
  });

  it('answers 503 with Retry-After when a fail-closed limit cannot reach its store', async () => {
    const store = new FakeRemoteStore();
    store.failingNodes.add('*');
    const limiter = createRateLimiter({ name: 'closed-api', limit: 100, windowMs: 60_000, store, onStoreFailure: 'closed', registry: quiet() });
    const app = express();
    app.use(rateLimit({ limiter, key: keyBy.ip() }));
    app.get('/', (_req, res) => {
      res.send('never');
    });
    app.use(problemErrorHandler());
    const response = await fetch(await serve(app));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ code: 'RATE_LIMIT_STORE_UNAVAILABLE' });
  });

  it('skips requests without a key, and requests the skip option names', async () => {
    const limiter = createRateLimiter({ name: 'by-api-key', algorithm: 'fixed-window', limit: 1, windowMs: 60_000, store: createMemoryStore({ registry: quiet() }), registry: quiet() });
    const app = express();
    app.use(rateLimit({ limiter, key: keyBy.apiKey(), skip: (req) => req.path === '/health' }));
    app.get('/{*any}', (_req, res) => {
      res.send('ok');
    });
    app.use(problemErrorHandler());
    const base = await serve(app);
    for (let index = 0; index < 3; index += 1) expect((await fetch(`${base}/anonymous`)).status).toBe(200);
    expect((await fetch(`${base}/x`, { headers: { 'x-api-key': 'k1' } })).status).toBe(200);
    expect((await fetch(`${base}/x`, { headers: { 'x-api-key': 'k1' } })).status).toBe(429);
    expect((await fetch(`${base}/health`, { headers: { 'x-api-key': 'k1' } })).status).toBe(200);
  });

  it('reports every policy of a multi-limit and weighs requests', async () => {
    const store = createMemoryStore({ registry: quiet() });
    const burst = createRateLimiter({ name: 'burst', limit: 10, windowMs: 1000, store, registry: quiet() });
    const hourly = createRateLimiter({ name: 'hourly', algorithm: 'sliding-window', limit: 100, windowMs: 3_600_000, store, registry: quiet() });
    const app = express();
    app.use(rateLimit({ limiter: createMultiLimiter([burst, hourly]), key: keyBy.ip(), cost: () => 3 }));
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    const response = await fetch(await serve(app));
    expect(response.headers.get('ratelimit-policy')).toBe('"burst";q=10;w=1, "hourly";q=100;w=3600');
    expect(response.headers.get('ratelimit')).toMatch(/^"burst";r=7;t=\d+, "hourly";r=97;t=\d+$/);
  });

  it('validates its options', () => {
    expect(() => rateLimit({} as never)).toThrow(/limiter must be created by createRateLimiter/);
    const limiter = createRateLimiter({ name: 'v', limit: 1, windowMs: 1000, store: createMemoryStore({ registry: quiet() }), registry: quiet() });
    expect(() => rateLimit({ limiter, key: 'ip' as never })).toThrow(/key must be a key source function/);
    expect(() => concurrencyLimit({ limiter: limiter as never, key: keyBy.ip() })).toThrow(/createConcurrencyLimiter/);
  });
});

describe('Express concurrencyLimit middleware', () => {
  it('refuses a request over the limit with 429 CONCURRENCY_LIMITED and frees the slot when the response ends', async () => {
    const limiter = createConcurrencyLimiter({ name: 'exports', limit: 1, store: createMemoryStore({ registry: quiet() }), registry: quiet() });
    let finishSlow: () => void = () => undefined;
    let slowStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      slowStarted = resolve;
    });
    const app = express();
    app.get('/export', concurrencyLimit({ limiter, key: keyBy.ip() }), (req, res) => {
      if (req.query.slow !== '1') {
        res.send('quick');
        return;
      }
      finishSlow = () => res.send('done');
      slowStarted();
    });
    app.use(problemErrorHandler());
    const base = await serve(app);
    const slow = fetch(`${base}/export?slow=1`);
    await started;
    const refused = await fetch(`${base}/export`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    expect(await refused.json()).toMatchObject({ code: 'CONCURRENCY_LIMITED' });
    finishSlow();
    expect(await (await slow).text()).toBe('done');
    // The slot is released on the response's 'close', just after the body was sent.
    for (let turn = 0; turn < 10_000 && (await limiter.peek('ip:127.0.0.1')).remaining === 0; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(await (await fetch(`${base}/export`)).text()).toBe('quick');
  });
  it('gives the slot back, and runs nothing, when the client goes away while the store decides', async () => {
    const store = new FakeRemoteStore();
    let openGate: () => void = () => undefined;
    store.leaseGate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    const limiter = createConcurrencyLimiter({ name: 'uploads', limit: 1, store, registry: quiet() });
    let serverSawClose: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => {
      serverSawClose = resolve;
    });
    const handler = vi.fn((_req: express.Request, res: express.Response) => {
      res.send('for nobody');
    });
    const app = express();
    app.use((_req, res, next) => {
      res.once('close', serverSawClose);
      next();
    });
    app.get('/upload', concurrencyLimit({ limiter, key: keyBy.ip() }), handler);
    const base = await serve(app);
    const aborted = new AbortController();
    const request = fetch(`${base}/upload`, { signal: aborted.signal }).catch(() => 'aborted');
    while (store.calls === 0) await new Promise((resolve) => setImmediate(resolve));
    aborted.abort();
    expect(await request).toBe('aborted');
    await closed;
    openGate(); // the lease is granted only now, after the response closed
    for (let turn = 0; turn < 1000 && (await limiter.peek('ip:127.0.0.1')).remaining === 0; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    expect((await limiter.peek('ip:127.0.0.1')).remaining).toBe(1);
    expect(handler).not.toHaveBeenCalled();
  });
});
