import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyVerifier } from '../auth/api-key-verifier.js';
import { createMemoryKeyStore } from '../auth/key-store-memory.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../errors/problem.js';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { apiKeyAuth } from './api-keys.js';

const pepper = randomBytes(32);
const store = createMemoryKeyStore({ pepper });
let storeDown = false;
const verifier = createApiKeyVerifier({
  store: { ...store, findByHash: (hash) => (storeDown ? Promise.reject(new Error('db down')) : store.findByHash(hash)) },
  pepper,
  registry: createMetricsRegistry({ defaultMetrics: false }),
});
let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify();
  // Stands in for Bulwark's problem+json error handler.
  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, { requestId: request.id });
    return reply.code(problem.status).headers(problem.headers).type(PROBLEM_CONTENT_TYPE).send(problem.body);
  });
  app.get('/whoami', { onRequest: apiKeyAuth({ verifier }) }, async (request) => request.bulwark);
  app.post('/deploys', { onRequest: apiKeyAuth({ verifier, scopes: ['deploy'] }) }, async (request) => ({ tenant: request.bulwark?.tenant }));
  await app.ready();
});
afterAll(async () => {
  await app.close();
});

describe('apiKeyAuth (Fastify)', () => {
  it('attaches the identity of a valid key, from X-Api-Key or a Bearer token', async () => {
    const { key, record } = await store.create({ name: 'ci', tenant: 'acme', scopes: ['deploy'] });
    for (const headers of [{ 'x-api-key': key }, { authorization: `Bearer ${key}` }]) {
      const response = await app.inject({ method: 'GET', url: '/whoami', headers });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ keyId: record.id, tenant: 'acme', scopes: ['deploy'] });
    }
    const deploy = await app.inject({ method: 'POST', url: '/deploys', headers: { 'x-api-key': key } });
    expect(deploy.json()).toEqual({ tenant: 'acme' });
  });

  it('answers 401 problems with stable codes and a challenge', async () => {
    const expiring = await store.create({ name: 'old', tenant: 'acme', expiresAt: new Date(Date.now() - 1) });
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'API_KEY_MISSING'],
      [{ authorization: 'Basic dXNlcjpwYXNz' }, 'API_KEY_MISSING'],
      [{ 'x-api-key': '   ' }, 'API_KEY_MALFORMED'],
      [{ 'x-api-key': expiring.key.replace('bw_live_', 'bw_test_') }, 'API_KEY_MALFORMED'],
      [{ 'x-api-key': expiring.key }, 'API_KEY_EXPIRED'],
    ];
    for (const [headers, code] of cases) {
      const response = await app.inject({ method: 'GET', url: '/whoami', headers });
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="api"/);
      expect(response.json()).toMatchObject({ code, requestId: expect.any(String) });
    }
  });

  it('answers 403 INSUFFICIENT_SCOPE and 503 when the key store is down', async () => {
    const { key } = await store.create({ name: 'reader', tenant: 'acme', scopes: ['read'] });
    const forbidden = await app.inject({ method: 'POST', url: '/deploys', headers: { 'x-api-key': key } });
    expect([forbidden.statusCode, forbidden.json().code]).toEqual([403, 'INSUFFICIENT_SCOPE']);
    const fresh = await store.create({ name: 'uncached', tenant: 'acme' });
    storeDown = true;
    try {
      const unavailable = await app.inject({ method: 'GET', url: '/whoami', headers: { 'x-api-key': fresh.key } });
      expect([unavailable.statusCode, unavailable.headers['retry-after'], unavailable.json().code]).toEqual([503, '1', 'DEPENDENCY_UNAVAILABLE']);
      expect(unavailable.body).not.toContain('db down');
    } finally {
      storeDown = false;
    }
  });
});
