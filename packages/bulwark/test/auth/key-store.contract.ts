/**
 * The behaviour every {@link KeyStore} must have. Run by key-store.test.ts against the memory
 * store, PGlite and PostgreSQL: one suite, so the implementations cannot drift apart.
 */
import { generateKeyPairSync, randomBytes, sign, verify as verifySignature } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyring } from '../../src/crypto/index.js';
import { hashApiKey } from '../../src/auth/api-key-hash.js';
import { parseApiKey } from '../../src/auth/api-key-format.js';
import { apiKeyStatus } from '../../src/auth/key-store.js';
import type { KeyStore } from '../../src/auth/key-store.js';
import type { KeyStoreOptions } from '../../src/auth/key-store-records.js';

export interface KeyStoreHarness {
  /** A store over the suite's shared backend. */
  create(options: KeyStoreOptions): KeyStore;
  /** The raw stored row, to prove what is (not) persisted; memory stores have none. */
  rawRow?(id: string): Promise<Record<string, unknown> | undefined>;
}

export const TEST_PEPPER = randomBytes(32);
const keyring = createKeyring({ current: randomBytes(32) });

/** A controllable clock starting at a fixed instant. */
export function testClock(startMs = Date.UTC(2030, 0, 1)): { now: () => number; advance(ms: number): void } {
  let current = startMs;
  return { now: () => current, advance: (ms) => (current += ms) };
}

const uniqueTenant = (): string => `tenant-${randomBytes(6).toString('hex')}`;

export function keyStoreContract(name: string, harness: () => KeyStoreHarness): void {
  describe(`KeyStore contract: ${name}`, () => {
    const setup = (): { store: KeyStore; clock: ReturnType<typeof testClock>; h: KeyStoreHarness } => {
      const clock = testClock();
      const h = harness();
      return { store: h.create({ pepper: TEST_PEPPER, encryptor: keyring, now: clock.now }), clock, h };
    };

    it('returns the plain key once and stores only its peppered hash', async () => {
      const { store, h } = setup();
      const tenant = uniqueTenant();
      const created = await store.create({ name: 'deploy bot', tenant, env: 'test', scopes: ['deploy', 'read:*'], limits: [{ limit: 100, windowMs: 60_000 }] });
      const parsed = parseApiKey(created.key);
      expect(parsed.ok && parsed.env).toBe('test');
      expect(created.record).toMatchObject({ name: 'deploy bot', tenant, env: 'test', scopes: ['deploy', 'read:*'], limits: [{ limit: 100, windowMs: 60_000 }], revokedAt: null, expiresAt: null, rotatedFrom: null });
      expect(created.record.displayPrefix).toBe(created.key.slice(0, created.record.displayPrefix.length));
      expect(created.key.startsWith(created.record.displayPrefix)).toBe(true);
      expect(created.record.displayPrefix.length).toBeLessThan(20);
      expect(JSON.stringify(created.record)).not.toContain(created.key.slice(14));

      const hash = hashApiKey(TEST_PEPPER, created.key);
      const found = await store.findByHash(hash);
      expect(found).toEqual({ ...created.record, hash });
      expect(await store.get(created.record.id)).toEqual(created.record);
      const listed = await store.list({ tenant });
      expect(listed.records).toEqual([created.record]);
      expect(JSON.stringify(listed)).not.toContain(hash);

      const raw = await h.rawRow?.(created.record.id);
      if (raw !== undefined) {
        expect(JSON.stringify(raw)).not.toContain(created.key);
        expect(raw.hash).toBe(hash);
      }
    });

    it('does not find a key by a hash made with another pepper, or by the key itself', async () => {
      const { store } = setup();
      const { key } = await store.create({ name: 'k', tenant: uniqueTenant() });
      expect(await store.findByHash(hashApiKey(randomBytes(32), key))).toBeUndefined();
      expect(await store.findByHash(key)).toBeUndefined();
      expect(await store.get('key_doesNotExist000000000')).toBeUndefined();
    });

    it('stores hostile names and tenants verbatim (parameterised SQL)', async () => {
      const { store } = setup();
      const name = "Robert'); DROP TABLE bulwark_api_keys;--";
      const tenant = `${uniqueTenant()}' OR '1'='1 ❤ ѡ`;
      const created = await store.create({ name, tenant });
      expect(await store.get(created.record.id)).toMatchObject({ name, tenant });
      expect((await store.list({ tenant })).records.map((record) => record.name)).toEqual([name]);
      expect((await store.list({ tenant: "' OR '1'='1" })).records).toEqual([]);
    });

    it('refuses invalid input with a TypeError naming the field', async () => {
      const { store } = setup();
      const tenant = uniqueTenant();
      await expect(store.create({ name: '', tenant })).rejects.toThrow(/name must be/);
      await expect(store.create({ name: 'a\u0000b', tenant })).rejects.toThrow(/name must be/);
      await expect(store.create({ name: 'x'.repeat(201), tenant })).rejects.toThrow(/name must be/);
      await expect(store.create({ name: 'a', tenant: 'line\nbreak' })).rejects.toThrow(/tenant must be/);
      await expect(store.create({ name: 'a', tenant, env: 'LIVE' })).rejects.toThrow(/env must match/);
      await expect(store.create({ name: 'a', tenant, scopes: ['has space'] })).rejects.toThrow(/scopes/);
      await expect(store.create({ name: 'a', tenant, scopes: ['a*'] })).rejects.toThrow(/scopes/);
      await expect(store.create({ name: 'a', tenant, limits: [{ limit: 0, windowMs: 1000 }] })).rejects.toThrow(/limit/);
      await expect(store.create({ name: 'a', tenant, limits: [{ limit: 1, windowMs: 1.5 }] })).rejects.toThrow(/limit/);
      await expect(store.create({ name: 'a', tenant, expiresAt: new Date(Number.NaN) })).rejects.toThrow(/expiresAt/);
      await expect(store.create({ name: 'a', tenant, signing: { algorithm: 'ed25519', publicKey: 'not a key' } })).rejects.toThrow(/publicKey/);
      expect((await store.list({ tenant })).records).toEqual([]);
    });

    it('rotates: the new key works at once, the old one until the end of the grace period', async () => {
      const { store, clock } = setup();
      const expiresAt = new Date(clock.now() + 90 * 86_400_000);
      const old = await store.create({ name: 'svc', tenant: uniqueTenant(), scopes: ['a'], limits: [{ limit: 5, windowMs: 1000 }], expiresAt });
      clock.advance(1000);
      const rotated = await store.rotate(old.record.id, { graceMs: 60_000 });
      if (!rotated.ok) throw new Error(`rotate failed: ${rotated.reason}`);
      expect(rotated.key).not.toBe(old.key);
      expect(rotated.record).toMatchObject({ tenant: old.record.tenant, scopes: ['a'], limits: [{ limit: 5, windowMs: 1000 }], expiresAt, rotatedFrom: old.record.id, rotatedTo: null });
      expect(rotated.record.id).not.toBe(old.record.id);
      expect(rotated.previous).toMatchObject({ id: old.record.id, rotatedTo: rotated.record.id, graceUntil: new Date(clock.now() + 60_000) });

      const newStored = await store.findByHash(hashApiKey(TEST_PEPPER, rotated.key));
      expect(newStored?.id).toBe(rotated.record.id);
      const oldStored = await store.findByHash(hashApiKey(TEST_PEPPER, old.key));
      if (oldStored === undefined) throw new Error('the old key must still be stored');
      expect(apiKeyStatus(oldStored, clock.now() + 59_999)).toBe('active');
      expect(apiKeyStatus(oldStored, clock.now() + 60_000)).toBe('expired');
    });

    it('refuses to rotate a key twice, an unknown, revoked or expired key', async () => {
      const { store, clock } = setup();
      const tenant = uniqueTenant();
      const a = await store.create({ name: 'a', tenant });
      expect((await store.rotate(a.record.id)).ok).toBe(true);
      expect(await store.rotate(a.record.id)).toEqual({ ok: false, reason: 'rotated' });
      expect(await store.rotate('key_unknown00000000000000')).toEqual({ ok: false, reason: 'not_found' });
      const b = await store.create({ name: 'b', tenant });
      await store.revoke(b.record.id);
      expect(await store.rotate(b.record.id)).toEqual({ ok: false, reason: 'revoked' });
      const c = await store.create({ name: 'c', tenant, expiresAt: new Date(clock.now() + 1000) });
      clock.advance(1000);
      expect(await store.rotate(c.record.id)).toEqual({ ok: false, reason: 'expired' });
      await expect(store.rotate(c.record.id, { graceMs: -1 })).rejects.toThrow(/graceMs/);
    });

    it('lets only one of two simultaneous rotations win', async () => {
      const { store } = setup();
      const a = await store.create({ name: 'a', tenant: uniqueTenant() });
      const results = await Promise.all([store.rotate(a.record.id), store.rotate(a.record.id)]);
      expect(results.map((result) => (result.ok ? 'ok' : result.reason)).sort()).toEqual(['ok', 'rotated']);
    });

    it('revokes a key and its predecessor still in grace, but not its successor', async () => {
      const { store, clock } = setup();
      const tenant = uniqueTenant();
      const first = await store.create({ name: 'chain', tenant });
      const second = await store.rotate(first.record.id, { graceMs: 3_600_000 });
      if (!second.ok) throw new Error('rotate failed');
      clock.advance(5);
      const revoked = await store.revoke(second.record.id);
      if (!revoked.ok) throw new Error('revoke failed');
      expect([...revoked.revokedIds].sort()).toEqual([first.record.id, second.record.id].sort());
      expect(revoked.record.revokedAt).toEqual(new Date(clock.now()));
      expect((await store.get(first.record.id))?.revokedAt).toEqual(new Date(clock.now()));
      expect(await store.revoke(second.record.id)).toEqual({ ok: false, reason: 'revoked' });
      expect(await store.revoke('key_unknown00000000000000')).toEqual({ ok: false, reason: 'not_found' });

      const third = await store.create({ name: 'solo', tenant });
      const fourth = await store.rotate(third.record.id);
      if (!fourth.ok) throw new Error('rotate failed');
      const revokedOld = await store.revoke(third.record.id);
      expect(revokedOld.ok && revokedOld.revokedIds).toEqual([third.record.id]);
      expect((await store.get(fourth.record.id))?.revokedAt).toBeNull();
    });

    it('lists page by page in creation order, each key exactly once', async () => {
      const { store, clock } = setup();
      const tenant = uniqueTenant();
      const ids: string[] = [];
      for (let i = 0; i < 7; i += 1) {
        ids.push((await store.create({ name: `k${i}`, tenant })).record.id);
        if (i % 3 === 0) clock.advance(1); // some keys share a creation instant: the id breaks ties
      }
      const revoked = ids[2] ?? '';
      await store.revoke(revoked);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({ tenant, limit: 2, ...(cursor === undefined ? {} : { cursor }) });
        expect(page.records.length).toBeLessThanOrEqual(2);
        seen.push(...page.records.map((record) => record.id));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(seen).toHaveLength(6);
      expect(new Set(seen)).toEqual(new Set(ids.filter((id) => id !== revoked)));
      expect((await store.list({ tenant, includeRevoked: true, limit: 1000 })).records).toHaveLength(7);
      await expect(store.list({ cursor: 'garbage' })).rejects.toThrow(/cursor/);
      await expect(store.list({ cursor: Buffer.from('[1,"x\'; DROP"]').toString('base64url') })).rejects.toThrow(/cursor/);
      // Regression: a time no database timestamp can hold passed, and the query failed in the
      // database (the admin API answered 503 DEPENDENCY_UNAVAILABLE instead of 400).
      for (const ms of [Number.MAX_SAFE_INTEGER, -62_135_596_800_001]) {
        await expect(store.list({ cursor: Buffer.from(JSON.stringify([ms, 'key_0123456789012345678901'])).toString('base64url') })).rejects.toThrow(/cursor/);
      }
      await expect(store.list({ limit: 0 })).rejects.toThrow(/limit/);
    });

    it('records last use in batches and never moves it backwards', async () => {
      const { store, clock } = setup();
      const a = await store.create({ name: 'a', tenant: uniqueTenant() });
      const t1 = new Date(clock.now() + 10_000);
      const t0 = new Date(clock.now() + 5_000);
      await store.touch([{ id: a.record.id, at: t1 }, { id: 'key_unknown00000000000000', at: t1 }]);
      await store.touch([{ id: a.record.id, at: t0 }]);
      expect((await store.get(a.record.id))?.lastUsedAt).toEqual(t1);
      const many = Array.from({ length: 1500 }, (_, i) => ({ id: i === 1499 ? a.record.id : `key_bulk${String(i).padStart(18, '0')}`, at: new Date(clock.now() + 20_000) }));
      await store.touch(many);
      expect((await store.get(a.record.id))?.lastUsedAt).toEqual(new Date(clock.now() + 20_000));
      await store.touch([]);
    });

    it('re-hashes a key under a new pepper only from the expected hash', async () => {
      const { store } = setup();
      const created = await store.create({ name: 'a', tenant: uniqueTenant() });
      const oldHash = hashApiKey(TEST_PEPPER, created.key);
      const newHash = hashApiKey(randomBytes(32), created.key);
      expect(await store.replaceHash(created.record.id, newHash, oldHash)).toBe(false);
      expect(await store.replaceHash(created.record.id, oldHash, newHash)).toBe(true);
      expect(await store.findByHash(oldHash)).toBeUndefined();
      expect((await store.findByHash(newHash))?.id).toBe(created.record.id);
    });

    it('keeps an HMAC signing secret encrypted and returns it to the signature verifier', async () => {
      const { store, h } = setup();
      const created = await store.create({ name: 'signer', tenant: uniqueTenant(), signing: { algorithm: 'hmac-sha256' } });
      expect(created.record.signingAlgorithm).toBe('hmac-sha256');
      expect(created.signingSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const material = await store.signingKey(created.record.id);
      expect(material?.algorithm).toBe('hmac-sha256');
      expect(material?.algorithm === 'hmac-sha256' && material.secret.toString('base64url')).toBe(created.signingSecret);
      const raw = await h.rawRow?.(created.record.id);
      if (raw !== undefined) {
        expect(JSON.stringify(raw)).not.toContain(created.signingSecret ?? '');
        expect(String(raw.signing_secret)).toMatch(/^v1\./);
      }
      const rotated = await store.rotate(created.record.id);
      expect(rotated.ok && rotated.signingSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(rotated.ok && rotated.signingSecret).not.toBe(created.signingSecret);
    });

    it('holds only the public key of an Ed25519 signing key', async () => {
      const { store } = setup();
      const pair = generateKeyPairSync('ed25519');
      const pem = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
      const created = await store.create({ name: 'ed', tenant: uniqueTenant(), signing: { algorithm: 'ed25519', publicKey: pem } });
      expect(created.signingSecret).toBeUndefined();
      const material = await store.signingKey(created.record.id);
      if (material?.algorithm !== 'ed25519') throw new Error('expected ed25519 material');
      const message = Buffer.from('"@method": POST');
      expect(verifySignature(null, message, material.publicKey, sign(null, message, pair.privateKey))).toBe(true);
      await expect(store.rotate(created.record.id)).rejects.toThrow(/publicKey/);
      const next = String(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x);
      const rotated = await store.rotate(created.record.id, { publicKey: next });
      expect(rotated.ok).toBe(true);
      expect(await store.signingKey((await store.create({ name: 'plain', tenant: uniqueTenant() })).record.id)).toBeUndefined();
    });

    it('refuses to create an HMAC signing key without an encryptor', async () => {
      const store = harness().create({ pepper: TEST_PEPPER });
      await expect(store.create({ name: 's', tenant: uniqueTenant(), signing: { algorithm: 'hmac-sha256' } })).rejects.toThrow(/encryptor/);
    });

    it('validates its options once, at construction', () => {
      const h = harness();
      expect(() => h.create({ pepper: Buffer.alloc(8) })).toThrow(/pepper must be a Buffer of at least 32 bytes/);
      expect(() => h.create({ pepper: 'secret' as unknown as Buffer })).toThrow(/pepper/);
    });
  });
}
