/**
 * The behaviour every SecureSessionStore must have, run against Redis and memory alike
 * (session-store.test.ts). Time is the store's injected clock, moved by the harness: expiry is
 * decided against it in both backends, so no test sleeps.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { createKeyring, generateMasterKey, parseMasterKey } from '../crypto/index.js';
import type { Keyring } from '../crypto/keyring.js';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import type { SessionStoreOptions } from './options.js';
import type { SecureSessionStore, SessionRequestContext, SessionSubject } from './types.js';

export interface StoreHarness {
  /** A store over this backend with the harness clock, a fresh registry and these options. */
  make(options: Omit<SessionStoreOptions, 'now'>): SecureSessionStore;
  /** Moves the store clock. */
  advance(ms: number): void;
  now(): number;
}

const MINUTE = 60_000;
const browser: SessionRequestContext = {
  ip: '203.0.113.10',
  headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', accept: 'text/html', 'accept-language': 'en-GB', 'accept-encoding': 'gzip, br' },
};
const elsewhere: SessionRequestContext = { ...browser, ip: '198.51.100.77' };

const newKeyring = (): Keyring => createKeyring({ current: parseMasterKey(generateMasterKey()) });

async function counter(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const value = metric?.values.find((entry) => Object.entries(labels).every(([key, label]) => entry.labels[key] === label));
  return value?.value ?? 0;
}

export function describeSessionStoreContract(name: string, harness: () => StoreHarness): void {
  describe(`SecureSessionStore contract: ${name}`, () => {
    let h: StoreHarness;
    let keyring: Keyring;
    let registry: Registry;
    let user: SessionSubject;
    const make = (options: Partial<Omit<SessionStoreOptions, 'now' | 'keyring' | 'registry'>> = {}): SecureSessionStore =>
      h.make({ keyring, registry, ...options });

    beforeEach(() => {
      h = harness();
      keyring = newKeyring();
      registry = createMetricsRegistry({ defaultMetrics: false });
      user = { tenant: 'acme', userId: `user-${randomUUID()}` };
    });

    describe('ids', () => {
      it('issues 256-bit random ids behind a user tag, and a public id that is their SHA-256', async () => {
        const store = make();
        const tokens = new Set<string>();
        for (let index = 0; index < 20; index += 1) {
          const created = await store.create({ ...user, context: browser });
          if (!created.ok) throw new Error('create failed');
          expect(created.token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
          expect(Buffer.from(created.token.split('.')[1] ?? '', 'base64url')).toHaveLength(32);
          expect(created.session.id).not.toContain(created.token.split('.')[1]);
          tokens.add(created.token);
        }
        expect(tokens.size).toBe(20);
        // Every session of one user shares the tag; another user's differs.
        expect(new Set([...tokens].map((token) => token.split('.')[0])).size).toBe(1);
        const other = await store.create({ tenant: 'acme', userId: 'someone-else', context: browser });
        expect(other.ok && other.token.split('.')[0]).not.toBe([...tokens][0]?.split('.')[0]);
      });

      it('answers not_found for every malformed or unknown token without throwing', async () => {
        const store = make();
        const created = await store.create({ ...user, context: browser });
        if (!created.ok) throw new Error('create failed');
        const [tag, random] = created.token.split('.') as [string, string];
        // The last character changed to another canonical one (A, E, I, … carry the final four bits):
        // always 'A' was the token itself one run in sixteen.
        const lastChanged = `${tag}.${random.slice(0, -1)}${random.endsWith('A') ? 'E' : 'A'}`;
        const hostile = [undefined, '', '.', 'x'.repeat(100_000), lastChanged, `${tag}.${random}=`, `${tag}..${random}`, `${random}.${tag}`, `${tag}.${random}\n`, '__proto__', `${tag}.${'A'.repeat(43)}`];
        expect(lastChanged).not.toBe(created.token);
        for (const token of hostile) expect(await store.validate(token, browser)).toEqual({ valid: false, reason: 'not_found' });
        await fc.assert(
          fc.asyncProperty(fc.string({ maxLength: 80 }), async (token) => {
            expect((await store.validate(token, browser)).valid).toBe(false);
          }),
          { numRuns: 50 },
        );
        expect((await store.validate(created.token, browser)).valid).toBe(true);
      });

      it('scopes the session to its tenant and user', async () => {
        const store = make();
        const created = await store.create({ ...user, data: { role: 'admin' }, context: browser });
        const result = created.ok ? await store.validate(created.token, browser) : undefined;
        expect(result).toMatchObject({ valid: true, session: { tenant: 'acme', userId: user.userId, data: { role: 'admin' }, version: 1 } });
      });
    });

    describe('timeouts', () => {
      it('expires a session idle for idleTimeoutMs, and each validation moves the idle deadline', async () => {
        const store = make({ idleTimeoutMs: 15 * MINUTE });
        const created = await store.create({ ...user, context: browser });
        if (!created.ok) throw new Error('create failed');
        for (let step = 0; step < 4; step += 1) {
          h.advance(14 * MINUTE);
          const result = await store.validate(created.token, browser);
          expect(result).toMatchObject({ valid: true, session: { idleExpiresAt: h.now() + 15 * MINUTE } });
        }
        h.advance(15 * MINUTE);
        expect(await store.validate(created.token, browser)).toEqual({ valid: false, reason: 'expired' });
        // Gone, not merely refused: it stays refused and is no longer listed.
        expect((await store.validate(created.token, browser)).valid).toBe(false);
        expect(await store.list(user)).toEqual([]);
      });

      it('writes the idle deadline at most once per touchIntervalMs, so a burst of requests costs one write', async () => {
        const store = make({ idleTimeoutMs: 15 * MINUTE, touchIntervalMs: 1000 });
        const created = await store.create({ ...user, context: browser });
        if (!created.ok) throw new Error('create failed');
        const deadline = created.session.idleExpiresAt;
        h.advance(999);
        expect(await store.validate(created.token, browser)).toMatchObject({ valid: true, session: { idleExpiresAt: deadline } });
        h.advance(1);
        expect(await store.validate(created.token, browser)).toMatchObject({ valid: true, session: { idleExpiresAt: deadline + 1000 } });
        const eager = make({ touchIntervalMs: 0 });
        const other = await eager.create({ ...user, context: browser });
        if (!other.ok) throw new Error('create failed');
        h.advance(1);
        expect(await eager.validate(other.token, browser)).toMatchObject({ valid: true, session: { idleExpiresAt: h.now() + 15 * MINUTE } });
      });

      it('ends a session at the absolute timeout however active it is', async () => {
        const store = make({ idleTimeoutMs: 10 * MINUTE, absoluteTimeoutMs: 60 * MINUTE });
        const created = await store.create({ ...user, context: browser });
        if (!created.ok) throw new Error('create failed');
        for (let minute = 9; minute < 60; minute += 9) {
          h.advance(9 * MINUTE);
          const result = await store.validate(created.token, browser);
          expect(result.valid).toBe(true);
          if (result.valid) expect(result.session.idleExpiresAt).toBeLessThanOrEqual(result.session.absoluteExpiresAt);
        }
        h.advance(6 * MINUTE);
        expect(await store.validate(created.token, browser)).toEqual({ valid: false, reason: 'expired' });
      });

      it('flags renewal when the id is older than renewalIntervalMs', async () => {
        const store = make({ renewalIntervalMs: 5 * MINUTE });
        const created = await store.create({ ...user, context: browser });
        if (!created.ok) throw new Error('create failed');
        h.advance(5 * MINUTE - 1);
        expect(await store.validate(created.token, browser)).toMatchObject({ valid: true, renewalDue: false });
        h.advance(1);
        expect(await store.validate(created.token, browser)).toMatchObject({ valid: true, renewalDue: true });
      });
    });

    describe('binding', () => {
      it('refuses a session presented from another address (exact binding, the default)', async () => {
        const store = make();
        const created = await store.create({ ...user, context: browser });
        if (!created.ok) throw new Error('create failed');
        expect(await store.validate(created.token, elsewhere)).toEqual({ valid: false, reason: 'ip_mismatch' });
        expect(await store.validate(created.token, { ...browser, ip: undefined })).toEqual({ valid: false, reason: 'ip_mismatch' });
        // The mismatch refuses the thief, not the owner.
        expect((await store.validate(created.token, browser)).valid).toBe(true);
        // IPv4-mapped IPv6 is the same client.
        expect((await store.validate(created.token, { ...browser, ip: `::ffff:${browser.ip}` })).valid).toBe(true);
      });

      it('accepts any address of the same network with a prefix binding, and any at all with off', async () => {
        const prefix = make({ ipBinding: { ipv4PrefixBits: 24, ipv6PrefixBits: 48 } });
        const mobile = await prefix.create({ ...user, context: { ...browser, ip: '203.0.113.10' } });
        const v6 = await prefix.create({ ...user, context: { ...browser, ip: '2001:db8:1:2::5' } });
        if (!mobile.ok || !v6.ok) throw new Error('create failed');
        expect((await prefix.validate(mobile.token, { ...browser, ip: '203.0.113.250' })).valid).toBe(true);
        expect(await prefix.validate(mobile.token, { ...browser, ip: '203.0.114.10' })).toEqual({ valid: false, reason: 'ip_mismatch' });
        expect((await prefix.validate(v6.token, { ...browser, ip: '2001:db8:1:ffff::9' })).valid).toBe(true);
        expect(await prefix.validate(v6.token, { ...browser, ip: '2001:db8:2::5' })).toEqual({ valid: false, reason: 'ip_mismatch' });
        const off = make({ ipBinding: 'off' });
        const anywhere = await off.create({ ...user, context: browser });
        expect(anywhere.ok && (await off.validate(anywhere.token, elsewhere)).valid).toBe(true);
      });

      it('refuses a session presented with another device fingerprint', async () => {
        const store = make();
        const created = await store.create({ ...user, context: browser });
        if (!created.ok) throw new Error('create failed');
        const curl = { ...browser, headers: { ...browser.headers, 'user-agent': 'curl/8.5.0' } };
        expect(await store.validate(created.token, curl)).toEqual({ valid: false, reason: 'fingerprint_mismatch' });
        expect(await store.validate(created.token, { ...browser, headers: { ...browser.headers, 'accept-language': 'de-DE' } })).toEqual({
          valid: false,
          reason: 'fingerprint_mismatch',
        });
        expect((await store.validate(created.token, { ...browser, headers: { ...browser.headers, cookie: 'other=1' } })).valid).toBe(true);
      });

      it('handles missing fingerprint headers: absent stays absent, and absent is not empty', async () => {
        const store = make();
        const bare = { ip: browser.ip, headers: {} };
        const created = await store.create({ ...user, context: bare });
        if (!created.ok) throw new Error('create failed');
        expect((await store.validate(created.token, { ip: browser.ip, headers: { 'x-other': '1' } })).valid).toBe(true);
        expect(await store.validate(created.token, { ip: browser.ip, headers: { 'user-agent': '' } })).toEqual({ valid: false, reason: 'fingerprint_mismatch' });
        expect(await store.validate(created.token, browser)).toEqual({ valid: false, reason: 'fingerprint_mismatch' });
      });

      it('checks no fingerprint when it is off, and the headers configured when given', async () => {
        const off = make({ fingerprint: false });
        const created = await off.create({ ...user, context: browser });
        expect(created.ok && (await off.validate(created.token, { ...browser, headers: {} })).valid).toBe(true);
        const uaOnly = make({ fingerprint: { headers: ['user-agent'] } });
        const session = await uaOnly.create({ ...user, context: browser });
        expect(session.ok && (await uaOnly.validate(session.token, { ...browser, headers: { 'user-agent': browser.headers['user-agent'], accept: '*/*' } })).valid).toBe(true);
      });
    });

    describe('lockout', () => {
      it('locks the account at exactly the 10th failure, refuses its sessions, and counts one lockout', async () => {
        const store = make({ idleTimeoutMs: 60 * MINUTE });
        const created = await store.create({ ...user, context: browser });
        if (!created.ok) throw new Error('create failed');
        for (let attempt = 1; attempt <= 9; attempt += 1) {
          expect(await store.validate(created.token, elsewhere)).toEqual({ valid: false, reason: 'ip_mismatch' });
        }
        expect(await store.lockoutStatus(user)).toEqual({ locked: false, lockedUntil: undefined, failures: 9 });
        expect((await store.validate(created.token, browser)).valid).toBe(true);
        expect(await counter(registry, 'session_lockouts_total')).toBe(0);
        expect(await store.validate(created.token, elsewhere)).toEqual({ valid: false, reason: 'ip_mismatch' });
        expect(await store.lockoutStatus(user)).toEqual({ locked: true, lockedUntil: h.now() + 15 * MINUTE, failures: 0 });
        expect(await counter(registry, 'session_lockouts_total')).toBe(1);
        expect(await store.validate(created.token, browser)).toEqual({ valid: false, reason: 'locked' });
        expect(await store.create({ ...user, context: browser })).toEqual({ ok: false, reason: 'locked' });
        // Another user is not affected.
        const other = await store.create({ tenant: 'acme', userId: 'bystander', context: browser });
        expect(other.ok).toBe(true);
      });

      it('lifts the lock after lockMs, not a millisecond before', async () => {
        const store = make({ idleTimeoutMs: 60 * MINUTE, lockout: { threshold: 3, lockMs: 15 * MINUTE } });
        const created = await store.create({ ...user, context: browser });
        if (!created.ok) throw new Error('create failed');
        for (let attempt = 0; attempt < 3; attempt += 1) await store.validate(created.token, elsewhere);
        h.advance(15 * MINUTE - 1);
        expect(await store.validate(created.token, browser)).toEqual({ valid: false, reason: 'locked' });
        h.advance(1);
        expect((await store.validate(created.token, browser)).valid).toBe(true);
        expect(await store.lockoutStatus(user)).toMatchObject({ locked: false });
      });

      it('counts failed logins per tenant + user and forgets them after the window', async () => {
        const store = make({ lockout: { threshold: 10, windowMs: 5 * MINUTE } });
        for (let attempt = 1; attempt <= 9; attempt += 1) expect(await store.recordFailure(user)).toEqual({ locked: false, lockedUntil: undefined, failures: attempt });
        // Same user id in another tenant is another account.
        expect(await store.recordFailure({ tenant: 'other', userId: user.userId })).toMatchObject({ failures: 1 });
        h.advance(5 * MINUTE);
        expect(await store.recordFailure(user)).toMatchObject({ locked: false, failures: 1 });
        for (let attempt = 2; attempt <= 9; attempt += 1) await store.recordFailure(user);
        expect(await store.recordFailure(user)).toEqual({ locked: true, lockedUntil: h.now() + 15 * MINUTE, failures: 0 });
        // Failures during a lock neither count nor extend it.
        h.advance(MINUTE);
        expect(await store.recordFailure(user)).toEqual({ locked: true, lockedUntil: h.now() + 14 * MINUTE, failures: 0 });
      });

      it('doubles repeated locks with back-off, up to maxLockMs, and forgets them after memoryMs', async () => {
        const store = make({ lockout: { threshold: 2, lockMs: MINUTE, backoff: { factor: 2, maxLockMs: 5 * MINUTE, memoryMs: 60 * MINUTE } } });
        const durations: number[] = [];
        for (let lock = 0; lock < 5; lock += 1) {
          await store.recordFailure(user);
          const status = await store.recordFailure(user);
          durations.push((status.lockedUntil ?? 0) - h.now());
          h.advance(status.lockedUntil === undefined ? 0 : status.lockedUntil - h.now());
        }
        expect(durations).toEqual([MINUTE, 2 * MINUTE, 4 * MINUTE, 5 * MINUTE, 5 * MINUTE]);
        h.advance(60 * MINUTE);
        await store.recordFailure(user);
        expect(await store.recordFailure(user)).toEqual({ locked: true, lockedUntil: h.now() + MINUTE, failures: 0 });
      });

      it('resets counted failures after a success, and unlock ends a lock', async () => {
        const store = make({ lockout: { threshold: 3 } });
        await store.recordFailure(user);
        await store.recordFailure(user);
        await store.resetFailures(user);
        expect(await store.recordFailure(user)).toMatchObject({ locked: false, failures: 1 });
        await store.recordFailure(user);
        expect(await store.recordFailure(user)).toMatchObject({ locked: true });
        await store.resetFailures(user);
        expect(await store.lockoutStatus(user)).toMatchObject({ locked: true });
        await store.unlock(user);
        expect(await store.lockoutStatus(user)).toEqual({ locked: false, lockedUntil: undefined, failures: 0 });
        expect((await store.create({ ...user, context: browser })).ok).toBe(true);
      });

      it('never counts unknown or expired ids, and counts mismatches only when asked to', async () => {
        const store = make({ lockout: { threshold: 2 } });
        const created = await store.create({ ...user, context: browser });
        if (!created.ok) throw new Error('create failed');
        const [tag] = created.token.split('.');
        for (let attempt = 0; attempt < 5; attempt += 1) await store.validate(`${tag}.${'B'.repeat(43)}`, browser);
        expect(await store.lockoutStatus(user)).toMatchObject({ locked: false, failures: 0 });
        const lenient = make({ lockout: { threshold: 2, countMismatches: false } });
        const session = await lenient.create({ ...user, userId: `${user.userId}-2`, context: browser });
        if (!session.ok) throw new Error('create failed');
        for (let attempt = 0; attempt < 5; attempt += 1) await lenient.validate(session.token, elsewhere);
        expect((await lenient.validate(session.token, browser)).valid).toBe(true);
      });
    });

    describe('versioned writes', () => {
      it('writes with compare-and-set: the stale writer gets version_conflict', async () => {
        const store = make();
        const created = await store.create({ ...user, data: { cart: [] }, context: browser });
        if (!created.ok) throw new Error('create failed');
        const first = await store.update(created.token, { data: { cart: ['a'] }, expectedVersion: 1 });
        const second = await store.update(created.token, { data: { cart: ['b'] }, expectedVersion: 1 });
        expect(first).toMatchObject({ ok: true, session: { version: 2, data: { cart: ['a'] } } });
        expect(second).toEqual({ ok: false, reason: 'version_conflict' });
      });

      it('loses no update when many requests modify one session at once', async () => {
        const store = make();
        const created = await store.create({ ...user, data: { hits: 0, seen: [] }, context: browser });
        if (!created.ok) throw new Error('create failed');
        const writers = 25;
        const results = await Promise.all(
          Array.from({ length: writers }, (_, writer) =>
            store.modify(created.token, (data) => ({ hits: (data.hits as number) + 1, seen: [...(data.seen as number[]), writer] }), 100),
          ),
        );
        expect(results.every((result) => result.ok)).toBe(true);
        const final = await store.validate(created.token, browser);
        if (!final.valid) throw new Error('session lost');
        expect(final.session.data.hits).toBe(writers);
        expect([...(final.session.data.seen as number[])].sort((a, b) => a - b)).toEqual(Array.from({ length: writers }, (_, index) => index));
        expect(final.session.version).toBe(1 + writers);
      });

      it('exactly one of many concurrent writers at the same version wins', async () => {
        const store = make();
        const created = await store.create({ ...user, context: browser });
        if (!created.ok) throw new Error('create failed');
        const results = await Promise.all(Array.from({ length: 20 }, (_, index) => store.update(created.token, { data: { writer: index }, expectedVersion: 1 })));
        expect(results.filter((result) => result.ok)).toHaveLength(1);
      });

      it('a logout cannot be undone by a request that was already in flight', async () => {
        const store = make();
        const created = await store.create({ ...user, data: { step: 1 }, context: browser });
        if (!created.ok) throw new Error('create failed');
        // The slow request validated before the logout …
        const inFlight = await store.validate(created.token, browser);
        if (!inFlight.valid) throw new Error('not valid');
        expect(await store.revoke(created.token)).toBe(true);
        // … and writes after it: refused, and nothing is recreated.
        expect(await store.update(created.token, { data: { step: 2 }, expectedVersion: inFlight.session.version })).toEqual({ ok: false, reason: 'not_found' });
        expect(await store.modify(created.token, () => ({ step: 3 }))).toEqual({ ok: false, reason: 'not_found' });
        expect(await store.renew(created.token, browser)).toEqual({ ok: false, reason: 'not_found' });
        expect(await store.regenerate(created.token, { context: browser })).toEqual({ ok: false, reason: 'not_found' });
        expect(await store.validate(created.token, browser)).toEqual({ valid: false, reason: 'not_found' });
        expect(await store.list(user)).toEqual([]);
      });

      it('refuses data that is not a small plain JSON object, naming the problem', async () => {
        const store = make({ maxDataBytes: 64 });
        const create = (data: unknown) => store.create({ ...user, data: data as never, context: browser });
        await expect(create({ big: 'x'.repeat(100) })).rejects.toThrow(RangeError);
        await expect(create({ when: new Date() })).rejects.toThrow(/data\.when is not a JSON value/);
        await expect(create({ n: Number.NaN })).rejects.toThrow(TypeError);
        await expect(create([1])).rejects.toThrow(TypeError);
        await expect(create(JSON.parse('{"__proto__":{"admin":true}}'))).rejects.toThrow(/FORBIDDEN_KEY/);
        expect(await store.list(user)).toEqual([]);
      });
    });

    describe('rotation', () => {
      it('regenerate issues a new id and kills the old one in the same step, keeping user and data', async () => {
        const store = make();
        const created = await store.create({ ...user, data: { role: 'user' }, context: browser });
        if (!created.ok) throw new Error('create failed');
        const rotated = await store.regenerate(created.token, { context: browser, data: { role: 'admin' } });
        if (!rotated.ok) throw new Error('regenerate failed');
        expect(rotated.token).not.toBe(created.token);
        expect(rotated.session).toMatchObject({ tenant: 'acme', userId: user.userId, data: { role: 'admin' }, version: 2, createdAt: created.session.createdAt });
        expect(rotated.session.previousId).toBeUndefined();
        expect(await store.validate(created.token, browser)).toEqual({ valid: false, reason: 'not_found' });
        expect((await store.validate(rotated.token, browser)).valid).toBe(true);
        expect((await store.list(user)).map((session) => session.id)).toEqual([rotated.session.id]);
      });

      it('concurrent regenerations of one id: exactly one wins, and the old id is dead for all', async () => {
        const store = make();
        const created = await store.create({ ...user, context: browser });
        if (!created.ok) throw new Error('create failed');
        const results = await Promise.all(Array.from({ length: 10 }, () => store.regenerate(created.token, { context: browser })));
        const winners = results.filter((result) => result.ok);
        expect(winners).toHaveLength(1);
        expect(results.filter((result) => !result.ok).every((result) => !result.ok && result.reason === 'not_found')).toBe(true);
        expect(await store.list(user)).toHaveLength(1);
      });

      it('a validation racing a regeneration sees the old session or nothing, never both ids alive', async () => {
        const store = make();
        for (let round = 0; round < 10; round += 1) {
          const created = await store.create({ ...user, context: browser });
          if (!created.ok) throw new Error('create failed');
          const [validation, rotation] = await Promise.all([store.validate(created.token, browser), store.regenerate(created.token, { context: browser })]);
          expect(rotation.ok).toBe(true);
          if (validation.valid) expect(validation.session.id).toBe(created.session.id);
          else expect(validation.reason).toBe('not_found');
          expect((await store.validate(created.token, browser)).valid).toBe(false);
        }
      });

      it('regenerate honours expectedVersion and renewAbsoluteTimeout', async () => {
        const store = make({ absoluteTimeoutMs: 60 * MINUTE, idleTimeoutMs: 30 * MINUTE });
        const created = await store.create({ ...user, context: browser });
        if (!created.ok) throw new Error('create failed');
        expect(await store.regenerate(created.token, { context: browser, expectedVersion: 7 })).toEqual({ ok: false, reason: 'version_conflict' });
        h.advance(20 * MINUTE);
        const kept = await store.regenerate(created.token, { context: browser });
        expect(kept.ok && kept.session.absoluteExpiresAt).toBe(created.session.absoluteExpiresAt);
        const renewed = kept.ok ? await store.regenerate(kept.token, { context: browser, renewAbsoluteTimeout: true }) : undefined;
        expect(renewed?.ok && renewed.session.absoluteExpiresAt).toBe(h.now() + 60 * MINUTE);
      });

      it('renew keeps the old id working for the grace period, for requests already in flight', async () => {
        const store = make({ renewalIntervalMs: 5 * MINUTE, renewalGraceMs: 30_000 });
        const created = await store.create({ ...user, data: { n: 1 }, context: browser });
        if (!created.ok) throw new Error('create failed');
        h.advance(5 * MINUTE);
        const renewed = await store.renew(created.token, browser);
        if (!renewed.ok) throw new Error('renew failed');
        expect(renewed.session.previousId).toBe(created.session.id);
        // The old cookie now reaches the new session, which is not due for renewal again.
        const viaOld = await store.validate(created.token, browser);
        expect(viaOld).toMatchObject({ valid: true, renewalDue: false, session: { id: renewed.session.id, previousId: created.session.id } });
        // Writes through the old cookie land on the new session.
        expect(await store.modify(created.token, () => ({ n: 2 }))).toMatchObject({ ok: true, session: { id: renewed.session.id } });
        // A second renewal through the old id loses the race politely.
        expect(await store.renew(created.token, browser)).toEqual({ ok: false, reason: 'version_conflict' });
        h.advance(30_000);
        expect(await store.validate(created.token, browser)).toMatchObject({ valid: false });
        const current = await store.validate(renewed.token, browser);
        expect(current).toMatchObject({ valid: true, session: { data: { n: 2 } } });
        if (current.valid) expect(current.session.previousId).toBeUndefined();
      });

      it('a logout during the grace period ends the old and the new id', async () => {
        const store = make({ renewalIntervalMs: 5 * MINUTE });
        const created = await store.create({ ...user, context: browser });
        if (!created.ok) throw new Error('create failed');
        const renewed = await store.renew(created.token, browser);
        if (!renewed.ok) throw new Error('renew failed');
        expect(await store.revoke(renewed.token)).toBe(true);
        expect((await store.validate(created.token, browser)).valid).toBe(false);
        const again = await store.create({ ...user, context: browser });
        if (!again.ok) throw new Error('create failed');
        const renewedAgain = await store.renew(again.token, browser);
        expect(await store.revoke(again.token)).toBe(true);
        expect(renewedAgain.ok && (await store.validate(renewedAgain.token, browser)).valid).toBe(false);
      });
    });

    describe('revocation', () => {
      it('revokes one session, by cookie value or by public id, and only that one', async () => {
        const store = make();
        const a = await store.create({ ...user, context: browser });
        const b = await store.create({ ...user, context: browser });
        const c = await store.create({ ...user, context: browser });
        if (!a.ok || !b.ok || !c.ok) throw new Error('create failed');
        expect(await store.revoke(a.token)).toBe(true);
        expect(await store.revoke(a.token)).toBe(false);
        expect(await store.revokeById(user, b.session.id)).toBe(true);
        expect(await store.revokeById({ tenant: 'acme', userId: 'someone-else' }, c.session.id)).toBe(false);
        expect(await store.revokeById(user, 'not an id')).toBe(false);
        expect((await store.validate(a.token, browser)).valid).toBe(false);
        expect((await store.validate(b.token, browser)).valid).toBe(false);
        expect((await store.validate(c.token, browser)).valid).toBe(true);
      });

      it('revokes all of a user’s many sessions at once, sparing the current one on request and other users always', async () => {
        const store = make({ maxSessionsPerUser: 1000 });
        const tokens: string[] = [];
        for (let index = 0; index < 300; index += 1) {
          const created = await store.create({ ...user, context: browser });
          if (!created.ok) throw new Error('create failed');
          tokens.push(created.token);
        }
        const bystander = await store.create({ tenant: 'acme', userId: 'bystander', context: browser });
        const keep = tokens[150] as string;
        expect(await store.revokeAll(user, { exceptToken: keep })).toBe(299);
        for (const token of tokens.filter((_, index) => index % 25 === 1)) expect((await store.validate(token, browser)).valid).toBe(false);
        expect((await store.validate(keep, browser)).valid).toBe(true);
        expect(await store.revokeAll(user)).toBe(1);
        expect(await store.list(user)).toEqual([]);
        expect(bystander.ok && (await store.validate(bystander.token, browser)).valid).toBe(true);
      });

      it('ends the oldest login beyond maxSessionsPerUser', async () => {
        const store = make({ maxSessionsPerUser: 3 });
        const tokens: string[] = [];
        for (let index = 0; index < 5; index += 1) {
          const created = await store.create({ ...user, context: browser });
          if (!created.ok) throw new Error('create failed');
          tokens.push(created.token);
          h.advance(1000);
        }
        const alive = await Promise.all(tokens.map(async (token) => (await store.validate(token, browser)).valid));
        expect(alive).toEqual([false, false, true, true, true]);
        expect(await store.list(user)).toHaveLength(3);
      });

      it('lists a user’s live sessions, oldest first', async () => {
        const store = make({ idleTimeoutMs: 10 * MINUTE });
        const first = await store.create({ ...user, data: { device: 'laptop' }, context: browser });
        h.advance(6 * MINUTE);
        const second = await store.create({ ...user, data: { device: 'phone' }, context: browser });
        expect((await store.list(user)).map((session) => session.data.device)).toEqual(['laptop', 'phone']);
        h.advance(5 * MINUTE);
        expect((await store.list(user)).map((session) => session.data.device)).toEqual(['phone']);
        expect(first.ok && second.ok).toBe(true);
      });

      it('deletes everything about a user: sessions and lockout state', async () => {
        const store = make({ lockout: { threshold: 2 } });
        const created = await store.create({ ...user, context: browser });
        await store.create({ ...user, context: browser });
        await store.recordFailure(user);
        await store.recordFailure(user);
        expect(await store.deleteUser(user)).toBe(2);
        expect(created.ok && (await store.validate(created.token, browser)).valid).toBe(false);
        expect(await store.lockoutStatus(user)).toEqual({ locked: false, lockedUntil: undefined, failures: 0 });
        expect(await store.list(user)).toEqual([]);
      });
    });

    describe('key rotation and metrics', () => {
      it('keeps sessions and locks made under the previous master key working during a rotation', async () => {
        const oldKey = parseMasterKey(generateMasterKey());
        const before = h.make({ keyring: createKeyring({ current: oldKey }), registry, lockout: { threshold: 2 } });
        const created = await before.create({ ...user, context: browser });
        if (!created.ok) throw new Error('create failed');
        await before.recordFailure({ ...user, userId: `${user.userId}-locked` });
        await before.recordFailure({ ...user, userId: `${user.userId}-locked` });
        const after = h.make({ keyring: createKeyring({ current: parseMasterKey(generateMasterKey()), previous: oldKey }), registry, lockout: { threshold: 2 } });
        expect((await after.validate(created.token, browser)).valid).toBe(true);
        expect((await after.validate(created.token, elsewhere)).valid).toBe(false);
        expect(await after.create({ ...user, userId: `${user.userId}-locked`, context: browser })).toEqual({ ok: false, reason: 'locked' });
        const fresh = await after.create({ ...user, context: browser });
        expect(await after.list(user)).toHaveLength(2);
        expect(await after.revokeAll(user)).toBe(2);
        expect(fresh.ok && (await after.validate(fresh.token, browser)).valid).toBe(false);
      });

      it('counts validations by result', async () => {
        const store = make({ idleTimeoutMs: MINUTE });
        const created = await store.create({ ...user, context: browser });
        if (!created.ok) throw new Error('create failed');
        await store.validate(created.token, browser);
        await store.validate(created.token, elsewhere);
        await store.validate(created.token, { ...browser, headers: {} });
        await store.validate('garbage', browser);
        h.advance(MINUTE);
        await store.validate(created.token, browser);
        for (const result of ['valid', 'ip_mismatch', 'fingerprint_mismatch', 'not_found', 'expired']) {
          expect(await counter(registry, 'session_validations_total', { result })).toBe(1);
        }
      });
    });
  });
}
