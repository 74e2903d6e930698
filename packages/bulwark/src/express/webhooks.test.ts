import { createHmac, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Stripe from 'stripe';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryReplayStore } from '../auth/memory-replay-store.js';
import { createWebhookVerifier } from '../auth/webhook-verifier.js';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem.js';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { problemErrorHandler } from './errors.js';
import { captureRawBody, rawBody } from './raw-body.js';
import { requireWebhook } from './webhooks.js';

const STRIPE_SECRET = `whsec_${randomBytes(24).toString('hex')}`;
const GITHUB_SECRET = randomBytes(20).toString('hex');
const STANDARD_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const registry = createMetricsRegistry({ defaultMetrics: false });
const replayStore = createMemoryReplayStore();
const stripeWebhooks = createWebhookVerifier({ scheme: 'stripe', secrets: [STRIPE_SECRET], replayStore, registry });
const githubWebhooks = createWebhookVerifier({ scheme: 'github', secrets: [GITHUB_SECRET], replayStore, registry });
const standardWebhooks = createWebhookVerifier({ scheme: 'standard', secrets: [STANDARD_SECRET], replayStore, registry });
const stripe = new Stripe('sk_test_not_used_for_network');

let server: Server;
let base: string;

beforeAll(async () => {
  const app = express();
  // The webhook route reads raw bytes only; the JSON routes of the app are unaffected.
  app.post('/webhooks/stripe', rawBody({ limit: '16kb' }), requireWebhook(stripeWebhooks), (req, res) => {
    const event = JSON.parse((req.body as Buffer).toString('utf8')) as { type: string };
    res.json({ type: event.type, timestamp: req.webhook?.timestamp });
  });
  // JSON parsed for the handler, raw bytes kept for the verifier.
  app.post('/webhooks/github', express.json({ verify: captureRawBody }), requireWebhook(githubWebhooks), (req, res) => res.json({ id: req.webhook?.id, body: req.body as unknown }));
  // No parser at all: the middleware reads the bytes itself.
  app.post('/webhooks/standard', requireWebhook(standardWebhooks), (req, res) => res.json({ id: req.webhook?.id }));
  // The classic bug, reproduced: the body parsed without keeping its bytes.
  app.post('/webhooks/broken', express.json(), requireWebhook(githubWebhooks), (_req, res) => res.json({}));
  app.use(problemErrorHandler());
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

// Whitespace and key order that JSON.stringify(JSON.parse(body)) would not reproduce.
const PAYLOAD = '{\n  "type": "invoice.paid",\n  "data": { "object": { "amount": 4200, "currency": "eur" } },\n  "id": "evt_1"\n}';

async function codeOf(response: Response): Promise<string> {
  expect(response.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  return ((await response.json()) as { code: string }).code;
}

describe('requireWebhook (Express)', () => {
  it('verifies a Stripe delivery over the raw bytes, whitespace and key order included', async () => {
    const signature = stripe.webhooks.generateTestHeaderString({ payload: PAYLOAD, secret: STRIPE_SECRET });
    const response = await fetch(`${base}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: PAYLOAD });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ type: 'invoice.paid' });
  });

  it('verifies a GitHub delivery while the route receives parsed JSON', async () => {
    const signature = `sha256=${createHmac('sha256', GITHUB_SECRET).update(PAYLOAD).digest('hex')}`;
    const headers = { 'content-type': 'application/json', 'x-hub-signature-256': signature, 'x-github-delivery': 'd-1' };
    const response = await fetch(`${base}/webhooks/github`, { method: 'POST', headers, body: PAYLOAD });
    expect(await response.json()).toMatchObject({ id: 'd-1', body: { type: 'invoice.paid', id: 'evt_1' } });
    const replay = await fetch(`${base}/webhooks/github`, { method: 'POST', headers, body: PAYLOAD });
    expect(replay.status).toBe(401);
    expect(await codeOf(replay)).toBe('WEBHOOK_REPLAYED');
  });

  it('verifies a Standard Webhooks delivery with no body parser mounted', async () => {
    const signature = new Webhook(STANDARD_SECRET).sign('msg_1', new Date(), PAYLOAD);
    const response = await fetch(`${base}/webhooks/standard`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': signature },
      body: PAYLOAD,
    });
    expect(await response.json()).toEqual({ id: 'msg_1' });
  });

  it('shows why raw bytes matter: the re-serialised payload does not verify', async () => {
    const reserialised = JSON.stringify(JSON.parse(PAYLOAD));
    const signature = stripe.webhooks.generateTestHeaderString({ payload: PAYLOAD, secret: STRIPE_SECRET });
    const response = await fetch(`${base}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: reserialised });
    expect(response.status).toBe(401);
    expect(await codeOf(response)).toBe('WEBHOOK_SIGNATURE_INVALID');
  });

  it('answers problem+json with WEBHOOK_* codes, 400 for malformed headers, never 500', async () => {
    const stale = stripe.webhooks.generateTestHeaderString({ payload: PAYLOAD, secret: STRIPE_SECRET, timestamp: Math.floor(Date.now() / 1000) - 3600 });
    const cases: [Record<string, string>, number, string][] = [
      [{}, 401, 'WEBHOOK_SIGNATURE_MISSING'],
      [{ 'stripe-signature': 't=1, v1=abc' }, 400, 'WEBHOOK_SIGNATURE_MALFORMED'],
      [{ 'stripe-signature': `t=1,v1=${'a'.repeat(5000)}` }, 400, 'WEBHOOK_SIGNATURE_MALFORMED'],
      [{ 'stripe-signature': stale }, 401, 'WEBHOOK_TIMESTAMP_OUT_OF_RANGE'],
    ];
    for (const [headers, status, code] of cases) {
      const response = await fetch(`${base}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: PAYLOAD });
      expect(response.status).toBe(status);
      expect(await codeOf(response)).toBe(code);
    }
  });

  it('answers 413 when a delivery exceeds the raw body limit', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(20_000) });
    const signature = stripe.webhooks.generateTestHeaderString({ payload: big, secret: STRIPE_SECRET });
    const response = await fetch(`${base}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: big });
    expect(response.status).toBe(413);
  });

  it('refuses to verify a body parsed without its raw bytes, with a generic problem', async () => {
    const signature = `sha256=${createHmac('sha256', GITHUB_SECRET).update(PAYLOAD).digest('hex')}`;
    const response = await fetch(`${base}/webhooks/broken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature, 'x-github-delivery': 'd-2' },
      body: PAYLOAD,
    });
    expect(response.status).toBe(500);
    expect(await codeOf(response)).toBe('INTERNAL_ERROR');
  });

  it('refuses a missing verifier with a TypeError', () => {
    expect(() => requireWebhook(null as never)).toThrow(TypeError);
  });
});
