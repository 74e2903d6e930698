import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryReplayStore } from './memory-replay-store.js';
import { buildSignatureBase, componentIdentifier } from './signature-base.js';
import { parseSignatureDictionary, readSignatureInput } from './signature-input.js';
import { signatureTarget } from './signature-target.js';
import { createSignatureVerifier } from './signature-verifier.js';
import type { SignatureKey, SignatureRequest } from './signature-types.js';
import { createMetricsRegistry } from '../observability/metrics-registry.js';

/**
 * RFC 9421 Appendix B: the test keys (B.1.4, B.1.5), the test request (B.2) and the expected
 * signature bases and signatures of B.2.5 (hmac-sha256) and B.2.6 (ed25519), copied from the RFC.
 * @see https://www.rfc-editor.org/rfc/rfc9421#appendix-B
 */
const TEST_SHARED_SECRET = Buffer.from('uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==', 'base64');
const TEST_KEY_ED25519_PUBLIC = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----`;
const TEST_KEY_ED25519_PRIVATE = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----`;
const CREATED = 1618884473;

/** `POST /foo?param=Value&Pet=dog` with `{"hello": "world"}` (RFC 9421 §B.2). */
function testRequest(signatureInput: string, signature: string): SignatureRequest {
  return {
    method: 'POST',
    url: '/foo?param=Value&Pet=dog',
    headers: {
      host: 'example.com',
      date: 'Tue, 20 Apr 2021 02:07:55 GMT',
      'content-type': 'application/json',
      'content-digest': 'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
      'content-length': '18',
      'signature-input': signatureInput,
      signature,
    },
    body: Buffer.from('{"hello": "world"}'),
  };
}

const B25 = {
  input: 'sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"',
  signature: 'sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:',
  base: [
    '"date": Tue, 20 Apr 2021 02:07:55 GMT',
    '"@authority": example.com',
    '"content-type": application/json',
    '"@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"',
  ].join('\n'),
};

const B26 = {
  input: 'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
  signature: 'sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:',
  base: [
    '"date": Tue, 20 Apr 2021 02:07:55 GMT',
    '"@method": POST',
    '"@path": /foo',
    '"@authority": example.com',
    '"content-type": application/json',
    '"content-length": 18',
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
  ].join('\n'),
};

const keys: Record<string, SignatureKey> = {
  'test-shared-secret': { keyId: 'test-shared-secret', algorithm: 'hmac-sha256', secret: TEST_SHARED_SECRET },
  'test-key-ed25519': { keyId: 'test-key-ed25519', algorithm: 'ed25519', publicKey: createPublicKey(TEST_KEY_ED25519_PUBLIC) },
};

/** The RFC examples predate this profile: they cover neither @query nor content-digest, and carry no nonce. */
function exampleVerifier(nowMs = CREATED * 1000) {
  return createSignatureVerifier({
    keys: (keyId) => keys[keyId],
    requiredComponents: [],
    requireContentDigest: false,
    requireNonce: false,
    now: () => nowMs,
    registry: createMetricsRegistry({ defaultMetrics: false }),
  });
}

function baseOf(example: { input: string }, request: SignatureRequest): string {
  const dictionary = parseSignatureDictionary(example.input)!;
  const [label, member] = [...dictionary][0]!;
  const input = readSignatureInput(label, member)!;
  const base = buildSignatureBase(input.components, input.signatureParams, signatureTarget(request)!, request.headers);
  if (typeof base !== 'string') throw new Error(base.failure);
  return base;
}

describe('RFC 9421 Appendix B conformance', () => {
  it('builds the signature base of B.2.5 byte for byte', () => {
    expect(baseOf(B25, testRequest(B25.input, B25.signature))).toBe(B25.base);
  });

  it('builds the signature base of B.2.6 byte for byte', () => {
    expect(baseOf(B26, testRequest(B26.input, B26.signature))).toBe(B26.base);
  });

  it('verifies B.2.5 (hmac-sha256 with test-shared-secret) at the example’s created time', async () => {
    const result = await exampleVerifier().verify(testRequest(B25.input, B25.signature));
    expect(result).toEqual({ ok: true, keyId: 'test-shared-secret', label: 'sig-b25', created: CREATED, algorithm: 'hmac-sha256' });
  });

  it('verifies B.2.6 (ed25519 with test-key-ed25519) at the example’s created time', async () => {
    const result = await exampleVerifier().verify(testRequest(B26.input, B26.signature));
    expect(result).toEqual({ ok: true, keyId: 'test-key-ed25519', label: 'sig-b26', created: CREATED, algorithm: 'ed25519' });
  });

  it('checks the example’s sha-512 Content-Digest against its body and refuses a changed body', async () => {
    const request = testRequest(B25.input, B25.signature);
    const tampered = { ...request, body: Buffer.from('{"hello": "World"}') };
    expect(await exampleVerifier().verify(tampered)).toEqual({ ok: false, reason: 'digest_mismatch' });
  });

  it('refuses the examples once the window has passed, in both directions', async () => {
    expect(await exampleVerifier((CREATED + 61) * 1000).verify(testRequest(B25.input, B25.signature))).toEqual({ ok: false, reason: 'expired' });
    expect(await exampleVerifier((CREATED - 61) * 1000).verify(testRequest(B26.input, B26.signature))).toEqual({ ok: false, reason: 'future' });
  });

  it('refuses the B.2.5 signature when one covered header changes', async () => {
    const request = testRequest(B25.input, B25.signature);
    const changed = { ...request, headers: { ...request.headers, 'content-type': 'text/plain' } };
    expect(await exampleVerifier().verify(changed)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('holds a private key matching the published public test key (sanity check of the copied keys)', () => {
    const derived = createPublicKey(createPrivateKey(TEST_KEY_ED25519_PRIVATE)).export({ type: 'spki', format: 'pem' }).toString().trim();
    expect(derived).toBe(TEST_KEY_ED25519_PUBLIC);
  });

  it('derives the components of §2.2 as the RFC defines them', () => {
    const target = signatureTarget({ method: 'POST', url: 'https://WWW.Example.com:443/path?param=value&foo=bar&baz=bat%2Dman', headers: {} })!;
    const derive = (name: string) => buildSignatureBase([{ name, parameters: new Map(), identifier: componentIdentifier(name) }], '()', target, {});
    expect(derive('@method')).toBe('"@method": POST\n"@signature-params": ()');
    expect(derive('@authority')).toBe('"@authority": www.example.com\n"@signature-params": ()');
    expect(derive('@scheme')).toBe('"@scheme": https\n"@signature-params": ()');
    expect(derive('@path')).toBe('"@path": /path\n"@signature-params": ()');
    expect(derive('@query')).toBe('"@query": ?param=value&foo=bar&baz=bat%2Dman\n"@signature-params": ()');
    expect(derive('@request-target')).toBe('"@request-target": /path?param=value&foo=bar&baz=bat%2Dman\n"@signature-params": ()');
    expect(derive('@target-uri')).toBe('"@target-uri": https://www.example.com/path?param=value&foo=bar&baz=bat%2Dman\n"@signature-params": ()');
    const noQuery = signatureTarget({ method: 'GET', url: '/path', headers: { host: 'example.com:8080' } })!;
    expect(buildSignatureBase([{ name: '@query', parameters: new Map(), identifier: '"@query"' }], '()', noQuery, {})).toBe('"@query": ?\n"@signature-params": ()');
    expect(buildSignatureBase([{ name: '@authority', parameters: new Map(), identifier: '"@authority"' }], '()', noQuery, {})).toBe('"@authority": example.com:8080\n"@signature-params": ()');
  });

  it('canonicalises header fields as §2.1 shows: lines trimmed and joined, sf, key and bs', () => {
    const target = signatureTarget({ method: 'GET', url: '/', headers: {} })!;
    const headers = {
      'x-obs-fold-header': 'Obsolete\n    line folding.',
      'cache-control': ['    max-age=60', '    must-revalidate'],
      'example-dict': ' a=1,    b=2;x=1;y=2,   c=(a   b   c)',
      'priority': ' u=1,    i ',
      'example-header': ['value, with, lots', 'of, commas'],
    };
    const line = (name: string, parameters: Map<string, true | string> = new Map()) => {
      const base = buildSignatureBase([{ name, parameters, identifier: componentIdentifier(name, parameters) }], '()', target, headers);
      return typeof base === 'string' ? base.split('\n')[0] : base.failure;
    };
    expect(line('x-obs-fold-header')).toBe('"x-obs-fold-header": Obsolete line folding.');
    expect(line('cache-control')).toBe('"cache-control": max-age=60, must-revalidate');
    expect(line('example-dict')).toBe('"example-dict": a=1,    b=2;x=1;y=2,   c=(a   b   c)');
    expect(line('example-dict', new Map([['key', 'a']]))).toBe('"example-dict";key="a": 1');
    expect(line('example-dict', new Map([['key', 'b']]))).toBe('"example-dict";key="b": 2;x=1;y=2');
    expect(line('example-dict', new Map([['key', 'c']]))).toBe('"example-dict";key="c": (a b c)');
    expect(line('priority', new Map([['sf', true]]))).toBe('"priority";sf: u=1, i');
    expect(line('example-header', new Map([['bs', true]]))).toBe('"example-header";bs: :dmFsdWUsIHdpdGgsIGxvdHM=:, :b2YsIGNvbW1hcw==:');
    expect(line('example-dict', new Map([['key', 'zz']]))).toBe('component_missing');
    expect(line('x-absent')).toBe('component_missing');
  });

  it('accepts an RFC example that also carries a nonce through a nonce store only once', async () => {
    const verifier = createSignatureVerifier({
      keys: (keyId) => keys[keyId],
      nonceStore: createMemoryReplayStore(),
      requiredComponents: [],
      requireContentDigest: false,
      now: () => CREATED * 1000,
      registry: createMetricsRegistry({ defaultMetrics: false }),
    });
    // No nonce in the RFC example: with the default requireNonce the profile refuses it.
    expect(await verifier.verify(testRequest(B25.input, B25.signature))).toEqual({ ok: false, reason: 'component_missing' });
  });
});
