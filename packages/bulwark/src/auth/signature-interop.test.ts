import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSigner as peerSigner, createVerifier as peerVerifier, httpbis } from 'http-message-signatures';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { contentDigest } from './content-digest.js';
import { createMemoryReplayStore } from './memory-replay-store.js';
import { ed25519SignatureKey, hmacSignatureKey } from './signature-key.js';
import { createSignatureVerifier } from './signature-verifier.js';
import type { SignatureKey } from './signature-types.js';
import { signRequest } from './signer.js';

/**
 * Interoperability with the `http-message-signatures` package (dhensby/node-http-message-signatures),
 * in both directions, for both algorithms of the profile.
 */
const SECRET = randomBytes(48);
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const KEYS: Record<string, SignatureKey> = { shared: hmacSignatureKey('shared', SECRET), edkey: ed25519SignatureKey('edkey', publicKey) };
const URL_ = 'https://api.example.com:8443/v1/orders?limit=10&cursor=abc';
const BODY = '{"sku": "A-1",  "qty": 2}';
const PROFILE_FIELDS = ['@method', '@authority', '@path', '@query', 'content-digest', 'content-type'];

function ourVerifier() {
  return createSignatureVerifier({ keys: (keyId) => KEYS[keyId], nonceStore: createMemoryReplayStore(), registry: createMetricsRegistry({ defaultMetrics: false }) });
}

async function signedByPeer(keyId: string) {
  const key = keyId === 'shared' ? peerSigner(SECRET, 'hmac-sha256', keyId) : peerSigner(privateKey, 'ed25519', keyId);
  return httpbis.signMessage(
    { key, fields: PROFILE_FIELDS, params: ['created', 'keyid', 'alg', 'nonce'], paramValues: { nonce: randomBytes(12).toString('base64url') } },
    { method: 'POST', url: URL_, headers: { 'content-type': 'application/json', 'content-digest': contentDigest(BODY, ['sha-512']) } },
  );
}

describe('interop with http-message-signatures', () => {
  it.each(['shared', 'edkey'])('verifies a request the peer signed (key %s)', async (keyId) => {
    const message = await signedByPeer(keyId);
    const result = await ourVerifier().verify({
      method: 'POST',
      url: '/v1/orders?limit=10&cursor=abc',
      headers: { ...message.headers, host: 'api.example.com:8443' },
      body: Buffer.from(BODY),
    });
    expect(result).toMatchObject({ ok: true, keyId, label: 'sig' });
  });

  it('refuses a peer-signed request whose body was changed', async () => {
    const message = await signedByPeer('shared');
    const result = await ourVerifier().verify({ method: 'POST', url: '/v1/orders?limit=10&cursor=abc', headers: { ...message.headers, host: 'api.example.com:8443' }, body: Buffer.from('{}') });
    expect(result).toEqual({ ok: false, reason: 'digest_mismatch' });
  });

  it.each([
    ['shared', 'hmac-sha256'],
    ['edkey', 'ed25519'],
  ] as const)('produces signatures the peer verifies (key %s)', async (keyId, algorithm) => {
    const headers = { 'content-type': 'application/json' };
    const added = signRequest({ method: 'POST', url: URL_, headers, body: BODY }, { keyId, algorithm, key: keyId === 'shared' ? SECRET : privateKey, components: ['content-type'] });
    const verify = keyId === 'shared' ? peerVerifier(SECRET, 'hmac-sha256') : peerVerifier(publicKey, 'ed25519');
    const verified = await httpbis.verifyMessage(
      {
        keyLookup: async (parameters) => (parameters.keyid === keyId ? { id: keyId, algs: [algorithm], verify } : null),
        requiredFields: PROFILE_FIELDS,
        requiredParams: ['created', 'keyid', 'nonce'],
      },
      { method: 'POST', url: URL_, headers: { ...headers, 'content-digest': added['Content-Digest']!, 'signature-input': added['Signature-Input'], signature: added.Signature } },
    );
    expect(verified).toBe(true);
  });

  it('produces signatures the peer refuses once a covered header changes', async () => {
    const added = signRequest({ method: 'GET', url: URL_ }, { keyId: 'shared', algorithm: 'hmac-sha256', key: SECRET });
    const verify = peerVerifier(SECRET, 'hmac-sha256');
    const verified = httpbis.verifyMessage(
      { keyLookup: async () => ({ id: 'shared', algs: ['hmac-sha256'], verify }) },
      { method: 'GET', url: URL_.replace('limit=10', 'limit=1000'), headers: { 'signature-input': added['Signature-Input'], signature: added.Signature } },
    );
    await expect(verified).resolves.toBe(false);
  });
});
