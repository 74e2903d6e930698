import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request as undiciRequest } from 'undici';
import { parseDictionary } from 'structured-headers';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { contentDigest } from './content-digest.js';
import { createMemoryReplayStore } from './memory-replay-store.js';
import { hmacSignatureKey } from './signature-key.js';
import { createSignatureVerifier } from './signature-verifier.js';
import { createSigningFetch } from './signer-fetch.js';
import { createSigningInterceptor, type DispatchOptionsLike } from './signer-undici.js';
import { createSigner, signRequest, type SignOptions } from './signer.js';

const SECRET = randomBytes(32);
const OPTIONS: SignOptions = { keyId: 'client-1', algorithm: 'hmac-sha256', key: SECRET, created: 1_700_000_000, nonce: 'fixed-nonce' };

describe('signRequest', () => {
  it('covers the profile’s components and parameters, in a stable order', () => {
    const headers = signRequest({ method: 'GET', url: 'https://api.example.com/orders?x=1' }, OPTIONS);
    expect(headers['Signature-Input']).toBe('sig1=("@method" "@authority" "@path" "@query");created=1700000000;keyid="client-1";alg="hmac-sha256";nonce="fixed-nonce"');
    expect(headers.Signature).toMatch(/^sig1=:[A-Za-z0-9+/]{43}=:$/);
    expect(headers['Content-Digest']).toBeUndefined();
  });

  it('adds and covers Content-Digest when there is a body, and only then', () => {
    const withBody = signRequest({ method: 'POST', url: 'https://api.example.com/orders', body: '{"a":1}' }, OPTIONS);
    expect(withBody['Content-Digest']).toBe(contentDigest('{"a":1}'));
    expect(withBody['Signature-Input']).toContain('"content-digest"');
    const emptyBody = signRequest({ method: 'POST', url: 'https://api.example.com/orders', body: '' }, OPTIONS);
    expect(emptyBody['Content-Digest']).toBeUndefined();
    const sha512 = signRequest({ method: 'POST', url: 'https://api.example.com/orders', body: 'x' }, { ...OPTIONS, digestAlgorithm: 'sha-512' });
    expect(sha512['Content-Digest']).toMatch(/^sha-512=:/);
  });

  it('produces a deterministic HMAC for fixed inputs and a different one for any change', () => {
    const sign = (url: string) => signRequest({ method: 'GET', url }, OPTIONS).Signature;
    expect(sign('https://api.example.com/a')).toBe(sign('https://api.example.com/a'));
    expect(sign('https://api.example.com/a')).not.toBe(sign('https://api.example.com/b'));
  });

  it('normalises the URL and method as fetch sends them', () => {
    const verifier = createSignatureVerifier({ keys: () => hmacSignatureKey('client-1', SECRET), requireNonce: false, now: () => 1_700_000_000_000, registry: createMetricsRegistry({ defaultMetrics: false }) });
    const headers = signRequest({ method: 'post', url: 'https://API.Example.com:443/a/../orders?q=1' }, OPTIONS);
    const received = { method: 'POST', url: '/orders?q=1', headers: { host: 'api.example.com', 'signature-input': headers['Signature-Input'], signature: headers.Signature } };
    return expect(verifier.verify(received)).resolves.toMatchObject({ ok: true });
  });

  it('keeps non-standard methods as given (fetch upper-cases only the six standard ones)', () => {
    const lower = signRequest({ method: 'patch', url: 'https://api.example.com/' }, OPTIONS).Signature;
    const upper = signRequest({ method: 'PATCH', url: 'https://api.example.com/' }, OPTIONS).Signature;
    expect(lower).not.toBe(upper);
  });

  it('adds a fresh random nonce by default, a given one, or none', () => {
    const nonceOf = (options: SignOptions) => {
      const input = parseDictionary(signRequest({ method: 'GET', url: 'https://a.example/' }, options)['Signature-Input']).get('sig1')!;
      return input[1].get('nonce');
    };
    const { nonce: _nonce, ...withoutNonce } = OPTIONS;
    const first = nonceOf(withoutNonce);
    expect(typeof first).toBe('string');
    expect(nonceOf(withoutNonce)).not.toBe(first);
    expect(nonceOf({ ...OPTIONS, nonce: 'abc' })).toBe('abc');
    expect(nonceOf({ ...OPTIONS, nonce: false })).toBeUndefined();
  });

  it('covers extra header fields that the request carries, and refuses absent ones', () => {
    const headers = signRequest({ method: 'GET', url: 'https://a.example/', headers: { 'X-Tenant': 'acme' } }, { ...OPTIONS, components: ['x-tenant'] });
    expect(headers['Signature-Input']).toContain('"x-tenant"');
    expect(() => signRequest({ method: 'GET', url: 'https://a.example/' }, { ...OPTIONS, components: ['x-tenant'] })).toThrow(/x-tenant/);
  });

  it('signs with ed25519 private keys and refuses mismatched key types', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    expect(signRequest({ method: 'GET', url: 'https://a.example/' }, { ...OPTIONS, algorithm: 'ed25519', key: privateKey }).Signature).toMatch(/^sig1=:[A-Za-z0-9+/]{86}==:$/);
    expect(signRequest({ method: 'GET', url: 'https://a.example/' }, { ...OPTIONS, algorithm: 'ed25519', key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() }).Signature).toMatch(/^sig1=:/);
    expect(() => createSigner({ ...OPTIONS, algorithm: 'ed25519', key: publicKey })).toThrow(/private key/);
    expect(() => createSigner({ ...OPTIONS, algorithm: 'ed25519', key: SECRET })).toThrow(/private key/);
    expect(() => createSigner({ ...OPTIONS, algorithm: 'hmac-sha256', key: privateKey })).toThrow(/secret/);
  });

  it('validates its options once, with TypeErrors naming the option', () => {
    expect(() => createSigner({ ...OPTIONS, key: randomBytes(31) })).toThrow(/32 bytes/);
    expect(() => createSigner({ ...OPTIONS, key: 'short' })).toThrow(/32 bytes/);
    expect(() => createSigner({ ...OPTIONS, algorithm: 'rsa-pss-sha512' as never })).toThrow(/algorithm/);
    expect(() => createSigner({ ...OPTIONS, keyId: '' })).toThrow(/keyId/);
    expect(() => createSigner({ ...OPTIONS, label: 'Sig 1' })).toThrow(/label/);
    expect(() => createSigner({ ...OPTIONS, components: ['@status'] })).toThrow(/components/);
    expect(() => createSigner({ ...OPTIONS, nonce: 'bad\nnonce' })).toThrow(/nonce/);
    expect(() => createSigner({ ...OPTIONS, created: -1 })).toThrow(/created/);
    expect(() => createSigner({ ...OPTIONS, expiresInSeconds: 0 })).toThrow(/expiresInSeconds/);
  });
});

describe('signing clients against a verifying server', () => {
  let server: Server;
  let origin: string;
  const verifier = createSignatureVerifier({
    keys: (keyId) => (keyId === 'client-1' ? hmacSignatureKey('client-1', SECRET) : undefined),
    nonceStore: createMemoryReplayStore(),
    registry: createMetricsRegistry({ defaultMetrics: false }),
  });

  async function rawBody(request: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  beforeAll(async () => {
    server = createServer((request, response) => {
      void rawBody(request).then(async (body) => {
        const result = await verifier.verify({ method: request.method ?? '', url: request.url ?? '', headers: request.headersDistinct, body, scheme: 'http' });
        response.writeHead(result.ok ? 200 : 401, { 'content-type': 'application/json' });
        response.end(JSON.stringify(result));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const clientOptions: SignOptions = { keyId: 'client-1', algorithm: 'hmac-sha256', key: SECRET };

  it('createSigningFetch: the server verifies GET and POST, and refuses an unsigned request', async () => {
    const signedFetch = createSigningFetch(clientOptions);
    const get = await signedFetch(`${origin}/orders?status=open`);
    expect(await get.json()).toMatchObject({ ok: true, keyId: 'client-1' });
    const post = await signedFetch(`${origin}/orders`, { method: 'post', headers: { 'content-type': 'application/json' }, body: '{"sku":"A-1"}' });
    expect(post.status).toBe(200);
    const fromRequest = await signedFetch(new Request(`${origin}/orders`, { method: 'PUT', body: new Uint8Array([1, 2, 3]) }));
    expect(fromRequest.status).toBe(200);
    const unsigned = await fetch(`${origin}/orders`);
    expect(await unsigned.json()).toEqual({ ok: false, reason: 'missing' });
  });

  it('createSigningInterceptor: undici requests through the composed dispatcher verify', async () => {
    const dispatcher = new Agent().compose(createSigningInterceptor(clientOptions));
    try {
      const get = await undiciRequest(`${origin}/orders?status=open`, { dispatcher });
      expect(await get.body.json()).toMatchObject({ ok: true });
      const post = await undiciRequest(`${origin}/orders`, { dispatcher, method: 'POST', headers: [['content-type', 'application/json']], body: Buffer.from('{"sku":"A-1"}') });
      expect(post.statusCode).toBe(200);
      await post.body.dump();
      await expect(undiciRequest(`${origin}/orders`, { dispatcher, method: 'POST', body: Readable.from(['streamed']) })).rejects.toThrow(/stream/);
    } finally {
      await dispatcher.close();
    }
  });

  it('createSigningInterceptor reads every undici header form and refuses a separate query', () => {
    const seen: DispatchOptionsLike[] = [];
    const dispatch = createSigningInterceptor(clientOptions)((options: DispatchOptionsLike) => {
      seen.push(options);
      return true;
    });
    const base = { origin: 'https://api.example.com', path: '/x', method: 'GET' };
    dispatch({ ...base, headers: ['x-a', '1', 'x-b', '2'] }, undefined);
    dispatch({ ...base, headers: new Map([['X-A', '1']]) }, undefined);
    dispatch({ ...base, headers: { 'X-A': ['1', '2'] } }, undefined);
    expect(seen.map((options) => Object.keys(options.headers as object).sort())).toEqual([
      ['signature', 'signature-input', 'x-a', 'x-b'],
      ['signature', 'signature-input', 'x-a'],
      ['signature', 'signature-input', 'x-a'],
    ]);
    expect(() => dispatch({ ...base, query: { a: 1 } }, undefined)).toThrow(/query/);
  });
});
