import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { createKeyring } from '../crypto/index.js';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { createSigningKeyLookup } from './api-key-signing.js';
import { createMemoryKeyStore } from './key-store-memory.js';
import { testClock } from '../../test/auth/key-store.contract.js';
import { createMemoryReplayStore } from './memory-replay-store.js';
import { createMemoryRevocationBus } from './revocation.js';
import { createSignatureVerifier } from './signature-verifier.js';
import { signRequest } from './signer.js';

const keyring = createKeyring({ current: randomBytes(32) });

function setup() {
  const clock = testClock();
  const store = createMemoryKeyStore({ pepper: randomBytes(32), encryptor: keyring, now: clock.now });
  const signingKey = vi.spyOn(store, 'signingKey');
  const revocation = createMemoryRevocationBus();
  const lookup = createSigningKeyLookup({ store, revocation, now: clock.now });
  return { clock, store, signingKey, revocation, lookup };
}

describe('createSigningKeyLookup', () => {
  it('returns the decrypted HMAC secret under the key id, pinned to its algorithm', async () => {
    const { store, lookup } = setup();
    const created = await store.create({ name: 'signer', tenant: 't', signing: { algorithm: 'hmac-sha256' } });
    const key = await lookup(created.record.id);
    expect(key?.algorithm).toBe('hmac-sha256');
    expect(key?.keyId).toBe(created.record.id);
    expect(key?.algorithm === 'hmac-sha256' && Buffer.from(key.secret).toString('utf8')).toBe(created.signingSecret);
  });

  // Regression: the lookup used the decoded secret bytes, the signer and the gateway the text's UTF-8
  // bytes, so a request signed as documented failed here with bad_signature.
  it('verifies a request signed with createSigner({ key: signingSecret }), as the gateway does', async () => {
    const { store, lookup } = setup();
    const created = await store.create({ name: 'signer', tenant: 't', signing: { algorithm: 'hmac-sha256' } });
    const url = 'https://api.example.com/orders?status=open';
    const added = signRequest({ method: 'GET', url, headers: {}, body: null }, { keyId: created.record.id, algorithm: 'hmac-sha256', key: created.signingSecret ?? '' });
    const verifier = createSignatureVerifier({ keys: lookup, nonceStore: createMemoryReplayStore(), registry: createMetricsRegistry({ defaultMetrics: false }) });
    const headers: Record<string, string> = { host: 'api.example.com' };
    for (const [name, value] of Object.entries(added)) headers[name.toLowerCase()] = value;
    expect(await verifier.verify({ method: 'GET', url: '/orders?status=open', headers })).toMatchObject({ ok: true, keyId: created.record.id });
  });

  it('tells the owner of a key (tenant and scopes of its record), with the same rules as the lookup', async () => {
    const { store, lookup, clock } = setup();
    const created = await store.create({ name: 'signer', tenant: 'acme', scopes: ['orders:read'], signing: { algorithm: 'hmac-sha256' } });
    expect(await lookup.owner(created.record.id)).toMatchObject({ tenant: 'acme', scopes: ['orders:read'], key: { keyId: created.record.id, algorithm: 'hmac-sha256' } });
    await store.revoke(created.record.id);
    lookup.close();
    const fresh = createSigningKeyLookup({ store, now: clock.now });
    expect(await fresh.owner(created.record.id)).toBeUndefined();
    expect(await fresh.owner('not-a-key-id')).toBeUndefined();
  });

  it('returns only a public key for Ed25519 keys', async () => {
    const { store, lookup } = setup();
    const { publicKey } = generateKeyPairSync('ed25519');
    const created = await store.create({ name: 'ed', tenant: 't', signing: { algorithm: 'ed25519', publicKey: publicKey.export({ format: 'jwk' }).x ?? '' } });
    const key = await lookup(created.record.id);
    expect(key?.algorithm === 'ed25519' && key.publicKey.type).toBe('public');
  });

  it('caches lookups and treats plain API keys, unknown and hostile ids as unknown', async () => {
    const { store, lookup, signingKey } = setup();
    const created = await store.create({ name: 'signer', tenant: 't', signing: { algorithm: 'hmac-sha256' } });
    await lookup(created.record.id);
    await lookup(created.record.id);
    expect(signingKey).toHaveBeenCalledTimes(1);
    const plain = await store.create({ name: 'plain', tenant: 't' });
    expect(await lookup(plain.record.id)).toBeUndefined();
    for (const id of ['', "key_'; DROP TABLE x;--", 'key_ѡѡѡѡѡѡѡѡѡѡѡѡѡѡѡѡѡѡѡѡѡѡ', 'x'.repeat(10_000)]) expect(await lookup(id)).toBeUndefined();
    expect(signingKey).toHaveBeenCalledTimes(2);
  });

  it('stops returning a key once it is revoked and broadcast, or past its rotation grace', async () => {
    const { store, lookup, revocation, clock } = setup();
    const a = await store.create({ name: 'a', tenant: 't', signing: { algorithm: 'hmac-sha256' } });
    expect(await lookup(a.record.id)).toBeDefined();
    await store.revoke(a.record.id);
    await revocation.publish([a.record.id]);
    expect(await lookup(a.record.id)).toBeUndefined();

    const b = await store.create({ name: 'b', tenant: 't', signing: { algorithm: 'hmac-sha256' } });
    const rotated = await store.rotate(b.record.id, { graceMs: 1000 });
    await revocation.publish([b.record.id]);
    expect(await lookup(b.record.id)).toBeDefined();
    clock.advance(1000);
    expect(await lookup(b.record.id)).toBeUndefined();
    expect(rotated.ok && (await lookup(rotated.record.id))?.algorithm).toBe('hmac-sha256');
  });

  it('refuses a key whose secret no longer decrypts, and lets store outages through', async () => {
    const { store, signingKey, clock } = setup();
    const error = vi.fn();
    const lookup = createSigningKeyLookup({ store, now: clock.now, logger: { error, warn: vi.fn(), info: vi.fn(), debug: vi.fn() } });
    const created = await store.create({ name: 'a', tenant: 't', signing: { algorithm: 'hmac-sha256' } });
    signingKey.mockRejectedValueOnce(Object.assign(new Error('bad tag'), { name: 'DecryptionError' }));
    expect(await lookup(created.record.id)).toBeUndefined();
    expect(error).toHaveBeenCalledTimes(1);
    const other = await store.create({ name: 'b', tenant: 't', signing: { algorithm: 'hmac-sha256' } });
    signingKey.mockRejectedValueOnce(new Error('connection refused'));
    await expect(lookup(other.record.id)).rejects.toThrow('connection refused');
    expect(await lookup(other.record.id)).toBeDefined();
  });
});
