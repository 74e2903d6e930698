import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import type { ErrorRequestHandler } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyVerifier } from '../auth/api-key-verifier.js';
import { createMemoryKeyStore } from '../auth/key-store-memory.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../errors/problem.js';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { apiKeyAuth } from './api-keys.js';

const pepper = randomBytes(32);
const store = createMemoryKeyStore({ pepper });
const verifier = createApiKeyVerifier({ store, pepper, registry: createMetricsRegistry({ defaultMetrics: false }) });
let server: Server;
let base: string;

// Stands in for problemErrorHandler(): renders the ApiError passed to next() as problem+json.
const problems: ErrorRequestHandler = (error, _req, res, _next) => {
  const problem = toProblem(error);
  res.status(problem.status).set(problem.headers).setHeader('content-type', PROBLEM_CONTENT_TYPE);
  res.send(JSON.stringify(problem.body));
};

beforeAll(async () => {
  const app = express();
  app.get('/whoami', apiKeyAuth({ verifier }), (req, res) => res.json(req.bulwark));
  app.post('/deploys', apiKeyAuth({ verifier, scopes: ['deploy'] }), (req, res) => res.status(201).json({ tenant: req.bulwark?.tenant }));
  app.use(problems);
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('apiKeyAuth (Express)', () => {
  it('attaches the identity of a valid key, from X-Api-Key or a Bearer token', async () => {
    const { key, record } = await store.create({ name: 'ci', tenant: 'acme', scopes: ['deploy'] });
    for (const headers of [{ 'x-api-key': key }, { authorization: `Bearer ${key}` }]) {
      const response = await fetch(`${base}/whoami`, { headers });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ keyId: record.id, tenant: 'acme', scopes: ['deploy'] });
    }
  });

  it('answers 401 problems with stable codes, never reaching the handler', async () => {
    const { key, record } = await store.create({ name: 'gone', tenant: 'acme' });
    await store.revoke(record.id);
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'API_KEY_MISSING'],
      [{ 'x-api-key': 'bw_live_garbage' }, 'API_KEY_MALFORMED'],
      [{ 'x-api-key': `bw_live_${'A'.repeat(10 * 1024)}` }, 'API_KEY_MALFORMED'],
      // UTF-8 bytes of a Cyrillic look-alike, as they arrive on the wire (header values are Latin-1).
      [{ authorization: Buffer.from(`Bearer ${key.slice(0, 12)}ѡ${key.slice(13)}`).toString('latin1') }, 'API_KEY_MALFORMED'],
      [{ 'x-api-key': Buffer.from(`${key.slice(0, 10)}\uFF21${key.slice(11)}`).toString('latin1') }, 'API_KEY_MALFORMED'],
      [{ 'x-api-key': key }, 'API_KEY_REVOKED'],
    ];
    for (const [headers, code] of cases) {
      const response = await fetch(`${base}/whoami`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="api"/);
      expect(await response.json()).toMatchObject({ code, status: 401 });
    }
  });

  it('answers 403 INSUFFICIENT_SCOPE for a valid key without the scope', async () => {
    const { key } = await store.create({ name: 'reader', tenant: 'acme', scopes: ['read'] });
    const response = await fetch(`${base}/deploys`, { method: 'POST', headers: { 'x-api-key': key } });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'INSUFFICIENT_SCOPE', requiredScopes: ['deploy'] });
  });
});
