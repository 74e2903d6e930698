import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLegacyHmacVerifier, signLegacy } from '../auth/legacy-hmac.js';
import { createMemoryReplayStore } from '../auth/memory-replay-store.js';
import type { ReplayStore } from '../auth/replay-store.js';
import { hmacSignatureKey } from '../auth/signature-key.js';
import { createSignatureVerifier } from '../auth/signature-verifier.js';
import { signRequest } from '../auth/signer.js';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem.js';
import { problemErrorHandler } from './errors.js';
import { captureRawBody } from './raw-body.js';
import { requireLegacyHmac, requireSignature } from './signatures.js';

const SECRET = randomBytes(32);
const LEGACY_SECRET = randomBytes(32).toString('base64');
const registry = createMetricsRegistry({ defaultMetrics: false });
const failingStore: ReplayStore = { checkAndStore: () => Promise.reject(new Error('redis down')), release: () => Promise.reject(new Error('redis down')) };
const keys = (keyId: string) => (keyId === 'client-1' ? hmacSignatureKey('client-1', SECRET) : undefined);
const verifier = createSignatureVerifier({ keys, nonceStore: createMemoryReplayStore(), registry });
const brokenVerifier = createSignatureVerifier({ keys, nonceStore: failingStore, registry });
const legacy = createLegacyHmacVerifier({ secret: LEGACY_SECRET, replayStore: createMemoryReplayStore(), registry });

let server: Server;
let base: string;
let host: string;

beforeAll(async () => {
  const app = express();
  // Parsed JSON with the raw bytes kept: the usual set-up.
  app.post('/json/orders', express.json({ verify: captureRawBody }), requireSignature(verifier), (req, res) => res.json({ keyId: req.signature?.keyId, body: req.body as unknown }));
  // No parser before the middleware: it reads the raw body itself.
  app.post('/raw/orders', requireSignature(verifier, { limit: 64 }), (req, res) => res.json({ isBuffer: Buffer.isBuffer(req.body), keyId: req.signature?.keyId }));
  app.get('/orders', requireSignature(verifier), (req, res) => res.json({ keyId: req.signature?.keyId }));
  app.get('/broken', requireSignature(brokenVerifier), (_req, res) => res.json({}));
  app.get('/behind-proxy', requireSignature(verifier, { authority: 'api.example.com' }), (req, res) => res.json({ keyId: req.signature?.keyId }));
  // A misconfiguration: JSON parsed without keeping the raw bytes.
  app.post('/misconfigured', express.json(), requireSignature(verifier), (_req, res) => res.json({}));
  app.post('/internal/jobs', requireLegacyHmac(legacy), (req, res) => res.json(req.legacyHmac));
  app.use(problemErrorHandler());
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = `http://${host}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function signedInit(method: string, path: string, body?: string, headers: Record<string, string> = {}, url = `${base}${path}`): RequestInit {
  const added = signRequest({ method, url, headers, body: body ?? null }, { keyId: 'client-1', algorithm: 'hmac-sha256', key: SECRET });
  return { method, headers: { ...headers, ...added }, ...(body === undefined ? {} : { body }) };
}

async function problemCode(response: Response): Promise<string> {
  expect(response.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  const problem = (await response.json()) as { code: string; status: number };
  expect(problem.status).toBe(response.status);
  return problem.code;
}

describe('requireSignature (Express)', () => {
  it('verifies the raw bytes while the route receives parsed JSON', async () => {
    // Odd spacing and key order: re-serialising req.body would produce other bytes and fail.
    const body = '{"qty":  2 ,"sku":"A-1",\n "note":"\\u00e9"}';
    const response = await fetch(`${base}/json/orders`, signedInit('POST', '/json/orders', body, { 'content-type': 'application/json' }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ keyId: 'client-1', body: { qty: 2, sku: 'A-1', note: 'é' } });
  });

  it('reads the raw body itself when no parser ran before it', async () => {
    const response = await fetch(`${base}/raw/orders`, signedInit('POST', '/raw/orders', '{"a":1}', { 'content-type': 'application/json' }));
    expect(await response.json()).toEqual({ isBuffer: true, keyId: 'client-1' });
  });

  it('verifies GET requests with a query', async () => {
    const response = await fetch(`${base}/orders?status=open&page=2`, signedInit('GET', '/orders?status=open&page=2'));
    expect(await response.json()).toEqual({ keyId: 'client-1' });
  });

  it('answers problem+json 401/400 with the catalogue code, never reaching the route', async () => {
    const tampered = signedInit('POST', '/json/orders', '{"qty":2}', { 'content-type': 'application/json' });
    const cases: [RequestInit, string, number, string][] = [
      [{ method: 'GET' }, '/orders', 401, 'SIGNATURE_MISSING'],
      [{ method: 'GET', headers: { 'signature-input': 'sig1=(', signature: 'sig1=:AAAA:' } }, '/orders', 400, 'SIGNATURE_MALFORMED'],
      [{ ...tampered, body: '{"qty":200}' }, '/json/orders', 401, 'CONTENT_DIGEST_MISMATCH'],
      [signedInit('GET', '/orders?status=open'), '/orders?status=closed', 401, 'SIGNATURE_INVALID'],
    ];
    for (const [init, path, status, code] of cases) {
      const response = await fetch(`${base}${path}`, init);
      expect(response.status).toBe(status);
      expect(await problemCode(response)).toBe(code);
    }
  });

  it('answers SIGNATURE_REPLAYED for the same signed request twice', async () => {
    const init = signedInit('GET', '/orders');
    expect((await fetch(`${base}/orders`, init)).status).toBe(200);
    const again = await fetch(`${base}/orders`, init);
    expect(again.status).toBe(401);
    expect(await problemCode(again)).toBe('SIGNATURE_REPLAYED');
  });

  it('answers 503 with Retry-After when the nonce store is down, never 500', async () => {
    const response = await fetch(`${base}/broken`, signedInit('GET', '/broken'));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await problemCode(response)).toBe('DEPENDENCY_UNAVAILABLE');
  });

  it('answers 413 when the body it reads exceeds the limit', async () => {
    const response = await fetch(`${base}/raw/orders`, signedInit('POST', '/raw/orders', JSON.stringify({ pad: 'x'.repeat(200) })));
    expect(response.status).toBe(413);
  });

  it('uses the configured authority when a proxy rewrites Host', async () => {
    const init = signedInit('GET', '/behind-proxy', undefined, {}, 'https://api.example.com/behind-proxy');
    expect(await (await fetch(`${base}/behind-proxy`, init)).json()).toEqual({ keyId: 'client-1' });
  });

  it('refuses to verify a body that was parsed without its raw bytes (a server misconfiguration)', async () => {
    const response = await fetch(`${base}/misconfigured`, signedInit('POST', '/misconfigured', '{"a":1}', { 'content-type': 'application/json' }));
    expect(response.status).toBe(500);
    const problem = (await response.json()) as { code: string; detail: string };
    expect(problem.code).toBe('INTERNAL_ERROR');
    expect(problem.detail).not.toMatch(/captureRawBody/);
  });
});

describe('requireLegacyHmac (Express)', () => {
  it('accepts a signed request and exposes the client id and timestamp', async () => {
    const headers = signLegacy({ method: 'POST', path: '/internal/jobs?run=1', secret: LEGACY_SECRET });
    const response = await fetch(`${base}/internal/jobs?run=1`, { method: 'POST', headers });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ keyId: 'legacy', timestamp: Number(headers['X-Timestamp']) });
  });

  it('answers problem+json for bad, malformed, missing and replayed signatures', async () => {
    const good = signLegacy({ method: 'POST', path: '/internal/jobs', secret: LEGACY_SECRET });
    await fetch(`${base}/internal/jobs`, { method: 'POST', headers: good });
    const cases: [Record<string, string>, number, string][] = [
      [{}, 401, 'SIGNATURE_MISSING'],
      [{ 'x-timestamp': '1e9', 'x-signature': 'ab' }, 400, 'SIGNATURE_MALFORMED'],
      [{ ...good, 'X-Signature': 'ab'.repeat(32) }, 401, 'SIGNATURE_INVALID'],
      [good, 401, 'SIGNATURE_REPLAYED'],
    ];
    for (const [headers, status, code] of cases) {
      const response = await fetch(`${base}/internal/jobs`, { method: 'POST', headers });
      expect(response.status).toBe(status);
      expect(await problemCode(response)).toBe(code);
    }
  });
});

describe('Express adapter factories', () => {
  it('refuse a missing verifier with a TypeError', () => {
    expect(() => requireSignature(undefined as never)).toThrow(TypeError);
    expect(() => requireLegacyHmac({} as never)).toThrow(TypeError);
  });
});
