import { createHash, createHmac, createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Registry } from 'prom-client';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { createMemoryReplayStore } from './memory-replay-store.js';
import type { ReplayStore } from './replay-store.js';
import { hmacSignatureKey, ed25519SignatureKey } from './signature-key.js';
import { createSignatureVerifier, type SignatureVerifierOptions } from './signature-verifier.js';
import type { SignatureKey, SignatureRequest } from './signature-types.js';
import { signRequest, type SignOptions } from './signer.js';

const NOW_MS = 1_700_000_000_000;
const NOW = NOW_MS / 1000;
const SECRET = randomBytes(32);
const ed25519 = generateKeyPairSync('ed25519');
const KEYS: Record<string, SignatureKey> = {
  billing: hmacSignatureKey('billing', SECRET),
  partner: ed25519SignatureKey('partner', ed25519.publicKey),
};
const HMAC: SignOptions = { keyId: 'billing', algorithm: 'hmac-sha256', key: SECRET, created: NOW };

let clock = NOW_MS;
let registry: Registry;
let nonceStore: ReplayStore;

beforeEach(() => {
  clock = NOW_MS;
  registry = createMetricsRegistry({ defaultMetrics: false });
  nonceStore = createMemoryReplayStore({ now: () => clock });
});

function verifier(options: Partial<SignatureVerifierOptions> = {}) {
  return createSignatureVerifier({ keys: (keyId) => KEYS[keyId], nonceStore, now: () => clock, registry, ...options });
}

interface Unsigned {
  readonly method: string;
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** A request as the server receives it: origin-form URL, Host header, the signature headers added. */
function signed(request: Unsigned, options: SignOptions = HMAC): SignatureRequest {
  const added = signRequest({ method: request.method, url: request.url, headers: request.headers ?? {}, body: request.body ?? null }, options);
  const url = new URL(request.url);
  const headers: Record<string, string> = { host: url.host, ...request.headers };
  for (const [name, value] of Object.entries(added)) headers[name.toLowerCase()] = value;
  return { method: request.method, url: `${url.pathname}${url.search}`, headers, ...(request.body === undefined ? {} : { body: Buffer.from(request.body) }) };
}

const GET: Unsigned = { method: 'GET', url: 'https://api.example.com/orders?status=open' };
const POST: Unsigned = { method: 'POST', url: 'https://api.example.com/orders', headers: { 'content-type': 'application/json' }, body: '{"sku":"A-1","qty":2}' };

describe('createSignatureVerifier: accepting', () => {
  it('accepts a signed GET and reports who signed it', async () => {
    const result = await verifier().verify(signed(GET));
    expect(result).toMatchObject({ ok: true, keyId: 'billing', label: 'sig1', created: NOW, algorithm: 'hmac-sha256' });
    expect(result.ok && typeof result.nonce).toBe('string');
  });

  it('accepts a signed POST whose Content-Digest matches the raw body', async () => {
    expect(await verifier().verify(signed(POST))).toMatchObject({ ok: true, keyId: 'billing' });
  });

  it('accepts an ed25519 signature checked with the public key only', async () => {
    const result = await verifier().verify(signed(POST, { keyId: 'partner', algorithm: 'ed25519', key: ed25519.privateKey, created: NOW }));
    expect(result).toMatchObject({ ok: true, keyId: 'partner', algorithm: 'ed25519' });
  });

  it('accepts signature headers given as arrays of field lines (Node headersDistinct)', async () => {
    const request = signed(GET);
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, [value as string]]));
    expect(await verifier().verify({ ...request, headers })).toMatchObject({ ok: true });
  });

  it('accepts an absolute URL, a Headers object, and explicit authority/path/query', async () => {
    const request = signed(GET);
    const plain = request.headers as Record<string, string>;
    expect(await verifier().verify({ ...request, url: 'https://api.example.com/orders?status=open', headers: new Headers(plain) })).toMatchObject({ ok: true });
    clock += 1; // new nonce store entry needed: sign again
    const again = signed(GET);
    expect(await verifier().verify({ method: 'GET', authority: 'api.example.com', path: '/orders', query: '?status=open', headers: again.headers })).toMatchObject({ ok: true });
  });
});

describe('createSignatureVerifier: time window', () => {
  it('accepts created exactly windowSeconds away in either direction and refuses one second more', async () => {
    for (const [offset, expected] of [
      [-60, { ok: true }],
      [60, { ok: true }],
      [-61, { ok: false, reason: 'expired' }],
      [61, { ok: false, reason: 'future' }],
    ] as const) {
      const result = await verifier().verify(signed(GET, { ...HMAC, created: NOW + offset }));
      expect(result).toMatchObject(expected);
    }
  });

  it('uses windowSeconds from the options', async () => {
    expect(await verifier({ windowSeconds: 5 }).verify(signed(GET, { ...HMAC, created: NOW - 6 }))).toEqual({ ok: false, reason: 'expired' });
  });

  it('honours the expires parameter', async () => {
    const request = signed(GET, { ...HMAC, created: NOW - 30, expiresInSeconds: 10 });
    expect(await verifier().verify(request)).toEqual({ ok: false, reason: 'expired' });
  });
});

describe('createSignatureVerifier: nonces', () => {
  it('accepts a nonce once and refuses the replay', async () => {
    const request = signed(POST);
    expect(await verifier().verify(request)).toMatchObject({ ok: true });
    expect(await verifier().verify(request)).toEqual({ ok: false, reason: 'replayed' });
  });

  it('checks the nonce only after the signature, so a forger cannot burn a client’s nonce', async () => {
    const genuine = signed(POST, { ...HMAC, nonce: 'n-123' });
    const forged = { ...genuine, headers: { ...genuine.headers, signature: `sig1=:${Buffer.alloc(32, 7).toString('base64')}:` } };
    expect(await verifier().verify(forged)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await verifier().verify(genuine)).toMatchObject({ ok: true, nonce: 'n-123' });
  });

  it('keeps nonces per key: the same nonce from two keys is two uses', async () => {
    expect(await verifier().verify(signed(GET, { ...HMAC, nonce: 'same' }))).toMatchObject({ ok: true });
    expect(await verifier().verify(signed(GET, { keyId: 'partner', algorithm: 'ed25519', key: ed25519.privateKey, created: NOW, nonce: 'same' }))).toMatchObject({ ok: true });
  });

  it('remembers a nonce for as long as its signature could be accepted', async () => {
    const request = signed(GET, { ...HMAC, created: NOW + 60 });
    expect(await verifier().verify(request)).toMatchObject({ ok: true });
    clock = (NOW + 120) * 1000; // still inside the window of created = NOW + 60
    expect(await verifier().verify(request)).toEqual({ ok: false, reason: 'replayed' });
  });

  it('fails closed with unavailable when the nonce store fails', async () => {
    const broken: ReplayStore = { checkAndStore: () => Promise.reject(new Error('ECONNRESET')), release: () => Promise.reject(new Error('ECONNRESET')) };
    expect(await verifier({ nonceStore: broken }).verify(signed(GET))).toEqual({ ok: false, reason: 'unavailable' });
  });

  it('refuses a signature without a nonce unless requireNonce is false', async () => {
    const request = signed(GET, { ...HMAC, nonce: false });
    expect(await verifier().verify(request)).toEqual({ ok: false, reason: 'component_missing' });
    expect(await verifier({ requireNonce: false }).verify(request)).toMatchObject({ ok: true });
  });
});

describe('createSignatureVerifier: keys and algorithms', () => {
  it('refuses an unknown keyid', async () => {
    expect(await verifier().verify(signed(GET, { ...HMAC, keyId: 'nobody' }))).toEqual({ ok: false, reason: 'unknown_key' });
  });

  it('refuses a key whose keyId differs from the one asked for', async () => {
    expect(await verifier({ keys: () => KEYS.partner }).verify(signed(GET))).toEqual({ ok: false, reason: 'unknown_key' });
  });

  it('fails closed with unavailable when the key lookup rejects or throws', async () => {
    expect(await verifier({ keys: () => Promise.reject(new Error('db down')) }).verify(signed(GET))).toEqual({ ok: false, reason: 'unavailable' });
    expect(
      await verifier({
        keys: () => {
          throw new Error('bug');
        },
      }).verify(signed(GET)),
    ).toEqual({ ok: false, reason: 'unavailable' });
  });

  it('accepts an asynchronous key lookup', async () => {
    expect(await verifier({ keys: async (keyId) => KEYS[keyId] }).verify(signed(GET))).toMatchObject({ ok: true });
  });

  it('refuses an alg parameter that differs from the key’s pinned algorithm', async () => {
    const request = signed(GET);
    const input = (request.headers as Record<string, string>)['signature-input']!.replace('alg="hmac-sha256"', 'alg="ed25519"');
    expect(await verifier().verify({ ...request, headers: { ...request.headers, 'signature-input': input } })).toEqual({ ok: false, reason: 'alg_mismatch' });
  });

  it('refuses the algorithm-confusion attack: an HMAC made with the ed25519 public key bytes', async () => {
    const publicKeyBytes = ed25519.publicKey.export({ format: 'der', type: 'spki' });
    const forged = signed(GET, { keyId: 'partner', algorithm: 'hmac-sha256', key: publicKeyBytes, created: NOW });
    expect(await verifier().verify(forged)).toEqual({ ok: false, reason: 'alg_mismatch' });
    const withoutAlg = signed(GET, { keyId: 'partner', algorithm: 'hmac-sha256', key: publicKeyBytes, created: NOW, includeAlg: false });
    expect(await verifier().verify(withoutAlg)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a key whose material does not match its algorithm', async () => {
    const confused = { keyId: 'billing', algorithm: 'ed25519', publicKey: createSecretKey(SECRET) } as unknown as SignatureKey;
    expect(await verifier({ keys: () => confused }).verify(signed(GET, { ...HMAC, includeAlg: false }))).toEqual({ ok: false, reason: 'alg_mismatch' });
    const privateAsPublic = { keyId: 'partner', algorithm: 'ed25519', publicKey: ed25519.privateKey } as SignatureKey;
    const request = signed(GET, { keyId: 'partner', algorithm: 'ed25519', key: ed25519.privateKey, created: NOW });
    expect(await verifier({ keys: () => privateAsPublic }).verify(request)).toEqual({ ok: false, reason: 'alg_mismatch' });
  });

  it('refuses an ed25519 private key given as PEM where the public key belongs, without echoing it', () => {
    const pem = ed25519.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    expect(() => ed25519SignatureKey('partner', pem)).toThrow(TypeError);
    try {
      ed25519SignatureKey('partner', pem);
    } catch (error) {
      expect((error as Error).message).not.toContain(pem.split('\n')[1]);
    }
    expect(ed25519SignatureKey('partner', ed25519.publicKey.export({ format: 'pem', type: 'spki' }) as string)).toMatchObject({ algorithm: 'ed25519' });
  });
});

describe('createSignatureVerifier: covered components', () => {
  it('refuses a signature that does not cover @query', async () => {
    const request = signed(GET);
    const headers = request.headers as Record<string, string>;
    const input = headers['signature-input']!.replace(' "@query"', '');
    const base = `"@method": GET\n"@authority": api.example.com\n"@path": /orders\n"@signature-params": ${input.slice('sig1='.length)}`;
    const signature = `sig1=:${createHmac('sha256', SECRET).update(base).digest('base64')}:`;
    expect(await verifier().verify({ ...request, headers: { ...headers, 'signature-input': input, signature } })).toEqual({ ok: false, reason: 'component_missing' });
    // The same signature is fine for a verifier whose profile does not require @query.
    expect(await verifier({ requiredComponents: ['@method', '@authority', '@path'] }).verify({ ...request, headers: { ...headers, 'signature-input': input, signature } })).toMatchObject({ ok: true });
  });

  it('requires content-digest to be covered when there is a body', async () => {
    const request = signed(GET);
    expect(await verifier().verify({ ...request, method: 'GET', body: Buffer.from('smuggled') })).toEqual({ ok: false, reason: 'component_missing' });
    // Opting out leaves the body unprotected: the same request is then accepted.
    expect(await verifier({ requireContentDigest: false }).verify({ ...request, body: Buffer.from('smuggled') })).toMatchObject({ ok: true });
  });

  it('refuses content-digest covered only through the member of an algorithm it does not check', async () => {
    // `"content-digest";key="md5"` signs the md5 member, which the verifier ignores; the sha-256
    // member it does check is unsigned, so anyone could swap the body and recompute it.
    const body = '{"sku":"A-1","qty":200}';
    const digest = `md5=:AAAA:, sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
    const params = `("@method" "@authority" "@path" "@query" "content-digest";key="md5");created=${NOW};keyid="billing";nonce="n-md5"`;
    const base = `"@method": POST\n"@authority": api.example.com\n"@path": /orders\n"@query": ?\n"content-digest";key="md5": :AAAA:\n"@signature-params": ${params}`;
    const headers = {
      host: 'api.example.com',
      'content-digest': digest,
      'signature-input': `sig1=${params}`,
      signature: `sig1=:${createHmac('sha256', SECRET).update(base).digest('base64')}:`,
    };
    const request = { method: 'POST', url: '/orders', headers, body: Buffer.from(body) };
    expect(await verifier().verify(request)).toEqual({ ok: false, reason: 'component_missing' });
    // Covering the member of an algorithm that is checked (or the whole field) meets the profile.
    const sha = digest.slice(digest.indexOf('sha-256=') + 'sha-256='.length);
    const paramsSha = params.replace('key="md5"', 'key="sha-256"').replace('n-md5', 'n-sha');
    const baseSha = base.replace('key="md5": :AAAA:', `key="sha-256": ${sha}`).replace(params, paramsSha);
    const signedSha = { ...headers, 'signature-input': `sig1=${paramsSha}`, signature: `sig1=:${createHmac('sha256', SECRET).update(baseSha).digest('base64')}:` };
    expect(await verifier().verify({ ...request, headers: signedSha })).toMatchObject({ ok: true });
  });

  it('refuses a covered header that is absent from the request', async () => {
    const request = signed({ ...GET, headers: { 'x-tenant': 'acme' } }, { ...HMAC, components: ['x-tenant'] });
    const { 'x-tenant': _removed, ...headers } = request.headers as Record<string, string>;
    expect(await verifier().verify({ ...request, headers })).toEqual({ ok: false, reason: 'component_missing' });
  });

  it('requires the components named in requiredComponents', async () => {
    const request = signed(GET);
    expect(await verifier({ requiredComponents: ['@method', 'x-tenant'] }).verify(request)).toEqual({ ok: false, reason: 'component_missing' });
  });
});

describe('createSignatureVerifier: tampering', () => {
  it('refuses a changed body with digest_mismatch', async () => {
    const request = signed(POST);
    expect(await verifier().verify({ ...request, body: Buffer.from('{"sku":"A-1","qty":200}') })).toEqual({ ok: false, reason: 'digest_mismatch' });
  });

  it('refuses a covered Content-Digest when the body was not captured (fails closed)', async () => {
    const { body: _dropped, ...request } = signed(POST);
    expect(await verifier().verify(request)).toEqual({ ok: false, reason: 'digest_mismatch' });
  });

  it('refuses a changed method, path, query or authority', async () => {
    const request = signed(GET);
    for (const changed of [
      { ...request, method: 'DELETE' },
      { ...request, url: '/orders/../admin?status=open' },
      { ...request, url: '/orders?status=closed' },
      { ...request, url: '/orders' },
      { ...request, headers: { ...request.headers, host: 'evil.example.com' } },
    ]) {
      expect(await verifier().verify(changed)).toEqual({ ok: false, reason: 'bad_signature' });
    }
  });

  it('treats the default port as absent in @authority and any other port as part of it', async () => {
    const request = signed(GET);
    expect(await verifier().verify({ ...request, headers: { ...request.headers, host: 'API.Example.com:443' } })).toMatchObject({ ok: true });
    const other = signed(GET);
    expect(await verifier().verify({ ...other, headers: { ...other.headers, host: 'api.example.com:8443' } })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('uses the authority option instead of Host behind a proxy that rewrites Host', async () => {
    const request = signed(GET);
    const proxied = { ...request, headers: { ...request.headers, host: 'backend.internal:3000' } };
    expect(await verifier().verify({ ...proxied })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await verifier().verify({ ...proxied, authority: 'api.example.com' })).toMatchObject({ ok: true });
  });

  it('refuses a request whose Host header is repeated', async () => {
    const request = signed(GET);
    expect(await verifier().verify({ ...request, headers: { ...request.headers, host: ['api.example.com', 'evil.example.com'] } })).toEqual({
      ok: false,
      reason: 'component_missing',
    });
  });
});

describe('createSignatureVerifier: choosing among signatures', () => {
  function withProxySignature(request: SignatureRequest, first = true): SignatureRequest {
    const headers = request.headers as Record<string, string>;
    const proxyInput = `proxy=("@method");created=${NOW};keyid="edge"`;
    const proxySignature = `proxy=:${Buffer.alloc(32).toString('base64')}:`;
    return {
      ...request,
      headers: {
        ...headers,
        'signature-input': first ? `${proxyInput}, ${headers['signature-input']}` : `${headers['signature-input']}, ${proxyInput}`,
        signature: first ? `${proxySignature}, ${headers.signature}` : `${headers.signature}, ${proxySignature}`,
      },
    };
  }

  it('skips a signature that does not meet the profile and checks the first that does', async () => {
    expect(await verifier().verify(withProxySignature(signed(GET)))).toMatchObject({ ok: true, label: 'sig1' });
  });

  it('checks only the configured label', async () => {
    expect(await verifier({ label: 'proxy' }).verify(withProxySignature(signed(GET)))).toEqual({ ok: false, reason: 'component_missing' });
    expect(await verifier({ label: 'other' }).verify(signed(GET))).toEqual({ ok: false, reason: 'missing' });
    expect(await verifier({ label: 'sig1' }).verify(withProxySignature(signed(GET), false))).toMatchObject({ ok: true });
  });

  it('considers only signatures with the configured tag', async () => {
    expect(await verifier({ tag: 'orders-api' }).verify(signed(GET))).toEqual({ ok: false, reason: 'missing' });
    expect(await verifier({ tag: 'orders-api' }).verify(signed(GET, { ...HMAC, tag: 'orders-api' }))).toMatchObject({ ok: true });
  });

  it('refuses more signatures than maxSignatures', async () => {
    const request = signed(GET);
    const headers = request.headers as Record<string, string>;
    const many = Array.from({ length: 5 }, (_, index) => `extra${index}=("@method");created=${NOW};keyid="x"`).join(', ');
    const manyValues = Array.from({ length: 5 }, (_, index) => `extra${index}=:AAAA:`).join(', ');
    expect(
      await verifier().verify({ ...request, headers: { ...headers, 'signature-input': `${headers['signature-input']}, ${many}`, signature: `${headers.signature}, ${manyValues}` } }),
    ).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('createSignatureVerifier: metrics and options', () => {
  it('counts failures by scheme and reason and times every verification', async () => {
    const v = verifier();
    await v.verify(signed(GET));
    await v.verify(signed(GET, { ...HMAC, keyId: 'nobody' }));
    await v.verify({ method: 'GET', url: '/', headers: {} });
    const failures = await registry.getSingleMetric('auth_failures_total')!.get();
    expect(failures.values).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ labels: { scheme: 'signature', reason: 'unknown_key' }, value: 1 }),
        expect.objectContaining({ labels: { scheme: 'signature', reason: 'missing' }, value: 1 }),
      ]),
    );
    const duration = await registry.getSingleMetric('auth_verification_duration_seconds')!.get();
    expect(duration.values.find((value) => (value as { metricName?: string }).metricName === 'auth_verification_duration_seconds_count')?.value).toBe(3);
  });

  it('validates its options once, with TypeErrors naming the option', () => {
    const base = { keys: () => undefined, nonceStore } as SignatureVerifierOptions;
    expect(() => createSignatureVerifier({ ...base, keys: 'nope' as never })).toThrow(/keys/);
    expect(() => createSignatureVerifier({ keys: () => undefined })).toThrow(/nonceStore/);
    expect(() => createSignatureVerifier({ ...base, windowSeconds: 0 })).toThrow(/windowSeconds/);
    expect(() => createSignatureVerifier({ ...base, windowSeconds: 1.5 })).toThrow(/windowSeconds/);
    expect(() => createSignatureVerifier({ ...base, requiredComponents: ['@status'] })).toThrow(/requiredComponents/);
    expect(() => createSignatureVerifier({ ...base, requiredComponents: ['Content-Type'] })).toThrow(/requiredComponents/);
    expect(() => createSignatureVerifier({ ...base, maxHeaderBytes: 10 })).toThrow(/maxHeaderBytes/);
    expect(() => createSignatureVerifier({ ...base, maxSignatures: 0 })).toThrow(/maxSignatures/);
    expect(() => createSignatureVerifier({ ...base, label: '' })).toThrow(/label/);
    expect(() => createSignatureVerifier({ ...base, requireNonce: 'yes' as never })).toThrow(/requireNonce/);
    expect(() => createSignatureVerifier({ keys: () => undefined, requireNonce: false })).not.toThrow();
  });
});
