/**
 * The behaviour every {@link AuditLog} must have; audit.test.ts runs it against the memory log,
 * PGlite and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { AuditLog, AuditLogOptions } from '../../src/audit/audit-log.js';
import { AUDIT_GENESIS_HASH } from '../../src/audit/audit-entry.js';

export interface AuditHarness {
  create(options: AuditLogOptions): AuditLog;
  /** Empties the chain (between tests). */
  reset(): Promise<void>;
  /** Raw edits behind the log's back, as an attacker with database access would make them. */
  tamper: {
    setAction(id: number, action: string): Promise<void>;
    setInput(id: number, inputJson: string): Promise<void>;
    setPrevHash(id: number, prevHash: string): Promise<void>;
    remove(id: number): Promise<void>;
  };
}

/** A redactor standing in for the observability module's: secret-named keys are replaced. */
export function testRedact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(testRedact);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, /secret|password|key$/i.test(key) ? '[REDACTED]' : testRedact(inner)]));
}

export function auditContract(name: string, harness: () => AuditHarness): void {
  describe(`AuditLog contract: ${name}`, () => {
    const chainKey = randomBytes(32);
    let h: AuditHarness;
    let clock = Date.UTC(2030, 0, 1);
    const now = (): number => clock;
    const log = (overrides: Partial<AuditLogOptions> = {}): AuditLog => h.create({ chainKey, redact: testRedact, now, ...overrides });
    const appendThree = async (audit: AuditLog) => {
      for (const action of ['api_key.create', 'api_key.rotate', 'api_key.revoke']) {
        clock += 1000;
        await audit.append({ actor: 'admin', action, target: 'key_x', outcome: 'success' });
      }
    };

    beforeEach(async () => {
      h = harness();
      await h.reset();
    });

    it('chains entries with gap-free ids and redacted input', async () => {
      const audit = log();
      expect(await audit.verify()).toEqual({ ok: true, count: 0 });
      const first = await audit.append({
        actor: 'key_admin',
        action: 'api_key.create',
        target: 'key_abc',
        requestId: 'req-1',
        clientIp: '203.0.113.9',
        outcome: 'success',
        input: { name: 'ci', scopes: ['deploy'], password: 'hunter2', nested: { apiKey: 'bw_live_x' } },
      });
      expect(first).toEqual({
        id: 1,
        at: new Date(clock),
        actor: 'key_admin',
        action: 'api_key.create',
        target: 'key_abc',
        requestId: 'req-1',
        clientIp: '203.0.113.9',
        outcome: 'success',
        input: { name: 'ci', scopes: ['deploy'], password: '[REDACTED]', nested: { apiKey: '[REDACTED]' } },
        prevHash: AUDIT_GENESIS_HASH,
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      const second = await audit.append({ actor: 'system', action: 'config.reload', outcome: 'failure' });
      expect(second).toMatchObject({ id: 2, prevHash: first.hash, target: null, requestId: null, clientIp: null, input: null });
      expect(await audit.head()).toEqual({ id: 2, hash: second.hash });
      expect(await audit.verify()).toEqual({ ok: true, count: 2 });
    });

    it('names an entry whose content was edited', async () => {
      const audit = log();
      await appendThree(audit);
      await h.tamper.setAction(2, 'api_key.list');
      expect(await audit.verify()).toEqual({ ok: false, brokenAt: 2, reason: 'hash_mismatch' });
    });

    it('reports the result of every verification in audit_chain_valid', async () => {
      const registry = new Registry();
      const audit = log({ registry });
      const chainValid = async (): Promise<number | undefined> => (await registry.getSingleMetric('audit_chain_valid')?.get())?.values[0]?.value;
      await appendThree(audit);
      await audit.verify();
      expect(await chainValid()).toBe(1);
      await h.tamper.setAction(2, 'api_key.list');
      await audit.verify();
      expect(await chainValid()).toBe(0);
    });

    it('names an entry whose input was edited', async () => {
      const audit = log();
      await audit.append({ actor: 'a', action: 'x.y', outcome: 'success', input: { scopes: ['read'] } });
      await h.tamper.setInput(1, '{"scopes":["admin"]}');
      expect(await audit.verify()).toEqual({ ok: false, brokenAt: 1, reason: 'hash_mismatch' });
    });

    it('detects a deleted entry in the middle', async () => {
      const audit = log();
      await appendThree(audit);
      await h.tamper.remove(2);
      expect(await audit.verify()).toEqual({ ok: false, brokenAt: 2, reason: 'missing_entry' });
    });

    it('detects deleted newest entries', async () => {
      const audit = log();
      await appendThree(audit);
      await h.tamper.remove(3);
      expect(await audit.verify()).toEqual({ ok: false, brokenAt: 3, reason: 'missing_entry' });
    });

    it('detects a relinked entry', async () => {
      const audit = log();
      await appendThree(audit);
      await h.tamper.setPrevHash(3, AUDIT_GENESIS_HASH);
      expect(await audit.verify()).toEqual({ ok: false, brokenAt: 3, reason: 'prev_mismatch' });
    });

    it('verifies entries written under an earlier chain key during a master-key rotation', async () => {
      await appendThree(log());
      const newKey = randomBytes(32);
      expect(await log({ chainKey: newKey }).verify()).toEqual({ ok: false, brokenAt: 1, reason: 'hash_mismatch' });
      const rotated = log({ chainKey: newKey, previousChainKeys: [chainKey] });
      await rotated.append({ actor: 'a', action: 'after.rotation', outcome: 'success' });
      expect(await rotated.verify()).toEqual({ ok: true, count: 4 });
    });

    it('keeps one chain when several instances append at once', async () => {
      const a = log();
      const b = log();
      await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).append({ actor: `instance-${i % 2}`, action: 'load.test', outcome: 'success', input: { i } })));
      expect(await a.verify()).toEqual({ ok: true, count: 30 });
      const page = await a.query({ limit: 1000 });
      expect(page.entries.map((entry) => entry.id)).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i));
    });

    it('queries newest first, by filter, page by page', async () => {
      const audit = log();
      const start = clock;
      for (let i = 0; i < 9; i += 1) {
        clock += 1000;
        await audit.append({ actor: i % 3 === 0 ? 'alice' : 'bob', action: i % 2 === 0 ? 'api_key.create' : 'api_key.revoke', target: `key_${i}`, outcome: i === 4 ? 'denied' : 'success' });
      }
      const all: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await audit.query({ limit: 4, ...(cursor === undefined ? {} : { cursor }) });
        all.push(...page.entries.map((entry) => entry.id));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(all).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
      expect((await audit.query({ actor: 'alice' })).entries.map((entry) => entry.id)).toEqual([7, 4, 1]);
      expect((await audit.query({ action: 'api_key.revoke', actor: 'bob' })).entries.map((entry) => entry.id)).toEqual([8, 6, 2]);
      expect((await audit.query({ outcome: 'denied' })).entries.map((entry) => entry.target)).toEqual(['key_4']);
      expect((await audit.query({ target: 'key_2' })).entries).toHaveLength(1);
      expect((await audit.query({ since: new Date(start + 3000), until: new Date(start + 6000) })).entries.map((entry) => entry.id)).toEqual([5, 4, 3]);
      await expect(audit.query({ cursor: 'not-a-cursor' })).rejects.toThrow(/cursor/);
      await expect(audit.query({ limit: 1001 })).rejects.toThrow(/limit/);
      await expect(audit.query({ since: new Date(Number.NaN) })).rejects.toThrow(/since/);
    });

    it('stores hostile text verbatim and cuts what is too long', async () => {
      const audit = log({ maxInputBytes: 64 });
      const actor = "x'); DELETE FROM bulwark_audit_log;--";
      const entry = await audit.append({ actor, action: 'a.b', target: 't'.repeat(600), outcome: 'success', input: { blob: 'y'.repeat(200) } });
      expect(entry.actor).toBe(actor);
      expect(entry.target).toHaveLength(500);
      expect(entry.input).toEqual({ truncated: true, bytes: Buffer.byteLength(JSON.stringify({ blob: 'y'.repeat(200) })) });
      expect((await audit.query({ actor })).entries).toHaveLength(1);
      expect(await audit.verify()).toEqual({ ok: true, count: 1 });
    });

    it('refuses invalid entries and appends nothing', async () => {
      const audit = log();
      await expect(audit.append({ actor: 'a', action: 'Bad Action', outcome: 'success' })).rejects.toThrow(/action must match/);
      await expect(audit.append({ actor: 'a', action: 'a.b', outcome: 'maybe' as 'success' })).rejects.toThrow(/outcome/);
      await expect(audit.append({ actor: '', action: 'a.b', outcome: 'success' })).rejects.toThrow(/actor/);
      await expect(audit.append({ actor: 'a', action: 'a.b', outcome: 'success', input: { n: 10n } })).rejects.toThrow(/JSON-serialisable/);
      expect(await audit.verify()).toEqual({ ok: true, count: 0 });
    });

    it('validates its options', () => {
      expect(() => h.create({ chainKey: Buffer.alloc(8), redact: testRedact })).toThrow(/chainKey must be a Buffer of at least 32 bytes/);
      expect(() => h.create({ chainKey, redact: undefined as unknown as (v: unknown) => unknown })).toThrow(/redact must be a function/);
      expect(() => h.create({ chainKey, redact: testRedact, maxInputBytes: 1 })).toThrow(/maxInputBytes/);
    });
  });
}
