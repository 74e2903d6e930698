import { createHmac, randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLegacyHmacVerifier, signLegacy } from '../auth/legacy-hmac.js';
import { createMemoryReplayStore } from '../auth/memory-replay-store.js';
import type { ReplayStore } from '../auth/replay-store.js';
import { hmacSignatureKey } from '../auth/signature-key.js';
import { createSignatureVerifier } from '../auth/signature-verifier.js';
import { signRequest } from '../auth/signer.js';
import { createWebhookVerifier } from '../auth/webhook-verifier.js';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem.js';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { installProblemHandlers } from './errors.js';
import { rawBodyParser } from './raw-body.js';
import { requireLegacyHmac, requireSignature } from './signatures.js';
import { requireWebhook } from './webhooks.js';

const SECRET = randomBytes(32);
const LEGACY_SECRET = randomBytes(32).toString('base64');
const STRIPE_SECRET = `whsec_${randomBytes(24).toString('hex')}`;
const GITHUB_SECRET = randomBytes(20).toString('hex');
const registry = createMetricsRegistry({ defaultMetrics: false });
const keys = (keyId: string) => (keyId === 'client-1' ? hmacSignatureKey('client-1', SECRET) : undefined);
const verifier = createSignatureVerifier({ keys, nonceStore: createMemoryReplayStore(), registry });
const failingStore: ReplayStore = { checkAndStore: () => Promise.reject(new Error('redis down')), release: () => Promise.reject(new Error('redis down')) };
const brokenVerifier = createSignatureVerifier({ keys, nonceStore: failingStore, registry });
const legacy = createLegacyHmacVerifier({ secret: LEGACY_SECRET, replayStore: createMemoryReplayStore(), registry });
const stripeWebhooks = createWebhookVerifier({ scheme: 'stripe', secrets: [STRIPE_SECRET], replayStore: createMemoryReplayStore(), registry });
const githubWebhooks = createWebhookVerifier({ scheme: 'github', secrets: [GITHUB_SECRET], replayStore: createMemoryReplayStore(), registry });
const stripe = new Stripe('sk_test_not_used_for_network');

let app: FastifyInstance;
const PAYLOAD = '{\n  "type": "invoice.paid",   "id": "evt_1",\n  "data": {"amount": 4200}\n}';

beforeAll(async () => {
  app = Fastify();
  installProblemHandlers(app);
  await app.register(async (signed) => {
    await signed.register(rawBodyParser, { contentTypes: ['application/json', 'text/plain'], bodyLimit: 4096 });
    signed.post('/orders', { preHandler: requireSignature(verifier) }, async (request) => ({ keyId: request.signature?.keyId, body: request.body }));
    signed.post('/notes', { preHandler: requireSignature(verifier) }, async (request) => ({ isBuffer: Buffer.isBuffer(request.body) }));
    signed.get('/orders', { preHandler: requireSignature(verifier) }, async (request) => ({ keyId: request.signature?.keyId }));
    signed.get('/broken', { preHandler: requireSignature(brokenVerifier) }, async () => ({}));
    signed.get('/proxied', { preHandler: requireSignature(verifier, { authority: () => 'api.example.com' }) }, async (request) => ({ keyId: request.signature?.keyId }));
    signed.post('/webhooks/stripe', { preHandler: requireWebhook(stripeWebhooks) }, async (request) => ({ type: (request.body as { type: string }).type }));
    signed.post('/webhooks/github', { preHandler: requireWebhook(githubWebhooks) }, async (request) => ({ id: request.webhook?.id }));
  });
  // Outside the raw-body scope: Fastify's own JSON parser, no bytes kept.
  app.post('/misconfigured', { preHandler: requireSignature(verifier) }, async () => ({}));
  app.post('/internal/jobs', { onRequest: requireLegacyHmac(legacy) }, async (request) => request.legacyHmac);
  await app.ready();
});

afterAll(async () => {
  await app.close();
});

function signedHeaders(method: string, path: string, body?: string, headers: Record<string, string> = {}, url = `http://localhost:80${path}`) {
  return { ...headers, ...signRequest({ method, url, headers, body: body ?? null }, { keyId: 'client-1', algorithm: 'hmac-sha256', key: SECRET }) };
}

function codeOf(response: { headers: Record<string, unknown>; json: () => unknown }): string {
  expect(response.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
  return (response.json() as { code: string }).code;
}

describe('requireSignature (Fastify)', () => {
  it('verifies the raw bytes while the route receives parsed JSON', async () => {
    const body = '{"qty":  2 ,"sku":"A-1",\n "note":"\\u00e9"}';
    const response = await app.inject({ method: 'POST', url: '/orders', headers: signedHeaders('POST', '/orders', body, { 'content-type': 'application/json' }), payload: body });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ keyId: 'client-1', body: { qty: 2, sku: 'A-1', note: 'é' } });
  });

  it('hands non-JSON types to the route as the raw Buffer', async () => {
    const response = await app.inject({ method: 'POST', url: '/notes', headers: signedHeaders('POST', '/notes', 'hello', { 'content-type': 'text/plain' }), payload: 'hello' });
    expect(response.json()).toEqual({ isBuffer: true });
  });

  it('verifies GET requests with a query, and refuses a changed query', async () => {
    const headers = signedHeaders('GET', '/orders?status=open');
    expect((await app.inject({ method: 'GET', url: '/orders?status=open', headers })).json()).toEqual({ keyId: 'client-1' });
    const changed = await app.inject({ method: 'GET', url: '/orders?status=closed', headers: signedHeaders('GET', '/orders?status=open') });
    expect(changed.statusCode).toBe(401);
    expect(codeOf(changed)).toBe('SIGNATURE_INVALID');
  });

  it('answers problem+json for missing, malformed and tampered requests', async () => {
    const missing = await app.inject({ method: 'GET', url: '/orders' });
    expect([missing.statusCode, codeOf(missing)]).toEqual([401, 'SIGNATURE_MISSING']);
    const malformed = await app.inject({ method: 'GET', url: '/orders', headers: { 'signature-input': 'sig1=("@method"', signature: 'sig1=:AAAA:' } });
    expect([malformed.statusCode, codeOf(malformed)]).toEqual([400, 'SIGNATURE_MALFORMED']);
    const tampered = await app.inject({ method: 'POST', url: '/orders', headers: signedHeaders('POST', '/orders', '{"qty":2}', { 'content-type': 'application/json' }), payload: '{"qty":20}' });
    expect([tampered.statusCode, codeOf(tampered)]).toEqual([401, 'CONTENT_DIGEST_MISMATCH']);
  });

  it('answers 503 with Retry-After when the nonce store is down', async () => {
    const response = await app.inject({ method: 'GET', url: '/broken', headers: signedHeaders('GET', '/broken') });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(codeOf(response)).toBe('DEPENDENCY_UNAVAILABLE');
  });

  it('uses the configured authority when a proxy rewrites Host', async () => {
    const headers = signedHeaders('GET', '/proxied', undefined, {}, 'https://api.example.com/proxied');
    expect((await app.inject({ method: 'GET', url: '/proxied', headers })).json()).toEqual({ keyId: 'client-1' });
  });

  it('answers 413 above the raw body limit', async () => {
    const body = JSON.stringify({ pad: 'x'.repeat(5000) });
    const response = await app.inject({ method: 'POST', url: '/orders', headers: signedHeaders('POST', '/orders', body, { 'content-type': 'application/json' }), payload: body });
    expect(response.statusCode).toBe(413);
  });

  it('refuses to verify a body parsed without its raw bytes (a server misconfiguration)', async () => {
    const body = '{"a":1}';
    const response = await app.inject({ method: 'POST', url: '/misconfigured', headers: signedHeaders('POST', '/misconfigured', body, { 'content-type': 'application/json' }), payload: body });
    expect(response.statusCode).toBe(500);
    expect(codeOf(response)).toBe('INTERNAL_ERROR');
  });

  it('refuses JSON with prototype keys, as Fastify’s own parser does', async () => {
    const body = '{"__proto__":{"admin":true}}';
    const response = await app.inject({ method: 'POST', url: '/orders', headers: signedHeaders('POST', '/orders', body, { 'content-type': 'application/json' }), payload: body });
    expect(response.statusCode).toBe(400);
  });
});

describe('requireWebhook (Fastify)', () => {
  it('verifies a Stripe delivery over the raw bytes while the route gets parsed JSON', async () => {
    const signature = stripe.webhooks.generateTestHeaderString({ payload: PAYLOAD, secret: STRIPE_SECRET });
    const response = await app.inject({ method: 'POST', url: '/webhooks/stripe', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, payload: PAYLOAD });
    expect(response.json()).toEqual({ type: 'invoice.paid' });
  });

  it('refuses the re-serialised payload, a replay, and malformed headers', async () => {
    const signature = `sha256=${createHmac('sha256', GITHUB_SECRET).update(PAYLOAD).digest('hex')}`;
    const headers = { 'content-type': 'application/json', 'x-hub-signature-256': signature, 'x-github-delivery': 'gh-1' };
    const reserialised = await app.inject({ method: 'POST', url: '/webhooks/github', headers, payload: JSON.stringify(JSON.parse(PAYLOAD)) });
    expect([reserialised.statusCode, codeOf(reserialised)]).toEqual([401, 'WEBHOOK_SIGNATURE_INVALID']);
    expect((await app.inject({ method: 'POST', url: '/webhooks/github', headers, payload: PAYLOAD })).json()).toEqual({ id: 'gh-1' });
    const replay = await app.inject({ method: 'POST', url: '/webhooks/github', headers, payload: PAYLOAD });
    expect([replay.statusCode, codeOf(replay)]).toEqual([401, 'WEBHOOK_REPLAYED']);
    const malformed = await app.inject({ method: 'POST', url: '/webhooks/github', headers: { ...headers, 'x-hub-signature-256': 'sha256= abc' }, payload: PAYLOAD });
    expect([malformed.statusCode, codeOf(malformed)]).toEqual([400, 'WEBHOOK_SIGNATURE_MALFORMED']);
  });
});

describe('requireLegacyHmac (Fastify)', () => {
  it('accepts a signed request as an onRequest hook and refuses a bad one', async () => {
    const headers = signLegacy({ method: 'POST', path: '/internal/jobs', secret: LEGACY_SECRET });
    const ok = await app.inject({ method: 'POST', url: '/internal/jobs', headers });
    expect(ok.json()).toEqual({ keyId: 'legacy', timestamp: Number(headers['X-Timestamp']) });
    const bad = await app.inject({ method: 'POST', url: '/internal/jobs', headers: { ...headers, 'X-Timestamp': String(Number(headers['X-Timestamp']) + 1) } });
    expect([bad.statusCode, codeOf(bad)]).toEqual([401, 'SIGNATURE_INVALID']);
  });
});

describe('Fastify adapter factories', () => {
  it('refuse a missing verifier and bad parser options', async () => {
    expect(() => requireSignature(undefined as never)).toThrow(TypeError);
    expect(() => requireWebhook({} as never)).toThrow(TypeError);
    expect(() => requireLegacyHmac(null as never)).toThrow(TypeError);
    const other = Fastify();
    await expect(other.register(rawBodyParser, { contentTypes: [] }).ready()).rejects.toThrow(/contentTypes/);
    await other.close();
  });
});
