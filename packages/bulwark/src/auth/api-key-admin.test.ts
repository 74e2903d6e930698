import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testRedact } from '../../test/audit/audit.contract.js';
import { createMemoryAuditLog } from '../audit/audit-memory.js';
import { createSqlAuditLog } from '../audit/audit-sql.js';
import type { AuditLog } from '../audit/audit-log.js';
import { createKeyring } from '../crypto/index.js';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import type { SqlClient } from '../sql/sql-client.js';
import { openTestPglite } from '../../test/sql/test-databases.js';
import type { TestDatabase } from '../../test/sql/test-databases.js';
import { createApiKeyAdmin } from './api-key-admin.js';
import { createApiKeyVerifier } from './api-key-verifier.js';
import type { KeyStore } from './key-store.js';
import { createMemoryKeyStore } from './key-store-memory.js';
import { createSqlKeyStore } from './key-store-sql.js';
import { createMemoryRevocationBus } from './revocation.js';
import type { RevocationEvent } from './revocation.js';

const keyring = createKeyring({ current: randomBytes(32) });
const pepper = keyring.subkey('api-key-pepper');
const chainKey = keyring.subkey('audit-chain');
const context = { actor: 'admin@acme.test', requestId: 'req-42', clientIp: '198.51.100.7' };

let pglite: TestDatabase;
beforeAll(async () => {
  pglite = await openTestPglite();
});
afterAll(async () => {
  await pglite?.dispose();
});

interface Backend {
  store: KeyStore;
  audit: AuditLog;
  sql: SqlClient | undefined;
}

const backends: Array<[string, () => Backend]> = [
  ['memory', () => ({ store: createMemoryKeyStore({ pepper, encryptor: keyring }), audit: createMemoryAuditLog({ chainKey, redact: testRedact }), sql: undefined })],
  [
    'PGlite',
    () => ({
      store: createSqlKeyStore({ sql: pglite.db, pepper, encryptor: keyring }),
      audit: createSqlAuditLog({ sql: pglite.db, chainKey, redact: testRedact }),
      sql: pglite.db,
    }),
  ],
];

describe.each(backends)('createApiKeyAdmin (%s)', (_name, backend) => {
  const setup = () => {
    const { store, audit, sql } = backend();
    const revocation = createMemoryRevocationBus();
    const events: RevocationEvent[] = [];
    revocation.subscribe((event) => events.push(event));
    const admin = createApiKeyAdmin({ store, audit, sql, revocation });
    const verifier = createApiKeyVerifier({ store, pepper, revocation, registry: createMetricsRegistry({ defaultMetrics: false }) });
    return { store, audit, admin, events, verifier };
  };

  it('creates a working key and audits it without the key or signing secret', async () => {
    const { admin, audit, verifier } = setup();
    const created = await admin.create({ name: 'ci', tenant: 'acme', scopes: ['deploy'], signing: { algorithm: 'hmac-sha256' } }, context);
    expect((await verifier.verify(created.key)).ok).toBe(true);
    const [entry] = (await audit.query({ target: created.record.id })).entries;
    expect(entry).toMatchObject({
      actor: context.actor,
      action: 'api_key.create',
      outcome: 'success',
      requestId: 'req-42',
      clientIp: '198.51.100.7',
      input: { name: 'ci', tenant: 'acme', env: 'live', scopes: ['deploy'], signingAlgorithm: 'hmac-sha256', displayPrefix: created.record.displayPrefix },
    });
    const text = JSON.stringify(await audit.query({ limit: 1000 }));
    expect(text).not.toContain(created.key);
    expect(text).not.toContain(created.signingSecret ?? 'no secret');
    expect((await audit.verify()).ok).toBe(true);
  });

  it('rotates, audits the new key id, and broadcasts the old key', async () => {
    const { admin, audit, events, verifier } = setup();
    const created = await admin.create({ name: 'svc', tenant: 'acme' }, context);
    const rotated = await admin.rotate(created.record.id, { graceMs: 0 }, context);
    if (!rotated.ok) throw new Error('rotate failed');
    expect(events).toContainEqual({ type: 'invalidate', keyIds: [created.record.id] });
    expect(await verifier.verify(created.key)).toEqual({ ok: false, reason: 'expired' });
    expect((await verifier.verify(rotated.key)).ok).toBe(true);
    const [entry] = (await audit.query({ action: 'api_key.rotate', target: created.record.id })).entries;
    expect(entry).toMatchObject({ outcome: 'success', input: { graceMs: 0, newKeyId: rotated.record.id } });
  });

  it('revokes, audits and broadcasts every revoked id', async () => {
    const { admin, audit, events, verifier } = setup();
    const created = await admin.create({ name: 'svc', tenant: 'acme' }, context);
    expect((await verifier.verify(created.key)).ok).toBe(true);
    const revoked = await admin.revoke(created.record.id, context);
    expect(revoked.ok).toBe(true);
    expect(events).toContainEqual({ type: 'invalidate', keyIds: [created.record.id] });
    expect(await verifier.verify(created.key)).toEqual({ ok: false, reason: 'revoked' });
    expect((await audit.query({ action: 'api_key.revoke', target: created.record.id })).entries[0]).toMatchObject({ outcome: 'success', input: { revokedIds: [created.record.id] } });
  });

  it('audits refused changes as failures and broadcasts nothing', async () => {
    const { admin, audit, events } = setup();
    expect(await admin.revoke('key_unknown00000000000000', context)).toEqual({ ok: false, reason: 'not_found' });
    expect(await admin.rotate('key_unknown00000000000000', {}, context)).toEqual({ ok: false, reason: 'not_found' });
    expect(events).toEqual([]);
    const failures = (await audit.query({ target: 'key_unknown00000000000000', outcome: 'failure' })).entries;
    expect(failures.map((entry) => [entry.action, entry.input])).toEqual([
      ['api_key.rotate', { graceMs: null, reason: 'not_found' }],
      ['api_key.revoke', { reason: 'not_found' }],
    ]);
  });

  it('audits invalid input as a failure and rethrows', async () => {
    const { admin, audit } = setup();
    await expect(admin.create({ name: '', tenant: 'acme' }, context)).rejects.toThrow(/name must be/);
    const [entry] = (await audit.query({ action: 'api_key.create', outcome: 'failure' })).entries;
    expect(entry?.input).toMatchObject({ name: '', error: expect.stringMatching(/name must be/) });
  });
});

describe('createApiKeyAdmin with SQL', () => {
  it('rolls the key change back when its audit entry cannot be written', async () => {
    const store = createSqlKeyStore({ sql: pglite.db, pepper, encryptor: keyring });
    const realAudit = createSqlAuditLog({ sql: pglite.db, chainKey, redact: testRedact });
    const failingOnce: AuditLog = { ...realAudit, append: vi.fn(realAudit.append).mockRejectedValueOnce(new Error('audit disk full')) };
    const admin = createApiKeyAdmin({ store, audit: failingOnce, sql: pglite.db });
    const tenant = `tenant-${randomBytes(4).toString('hex')}`;
    await expect(admin.create({ name: 'never', tenant }, context)).rejects.toThrow('audit disk full');
    expect((await store.list({ tenant, includeRevoked: true })).records).toEqual([]);
    const [entry] = (await realAudit.query({ action: 'api_key.create', outcome: 'failure' })).entries;
    expect(entry?.input).toMatchObject({ tenant, error: 'audit disk full' });
    expect((await realAudit.verify()).ok).toBe(true);
  });

  it('answers a failed change after 1 s at most when its failure audit entry hangs (a database that just failed)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const realAudit = createMemoryAuditLog({ chainKey, redact: testRedact });
      const hanging: AuditLog = { ...realAudit, append: () => new Promise(() => undefined) };
      const admin = createApiKeyAdmin({ store: createMemoryKeyStore({ pepper, encryptor: keyring }), audit: hanging });
      let outcome: unknown;
      const change = admin.create({ name: '', tenant: 'acme' }, context).catch((error: unknown) => (outcome = error));
      await vi.advanceTimersByTimeAsync(999);
      expect(outcome).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      await change;
      expect(String(outcome)).toMatch(/name must be/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('validates its options', () => {
    const audit = createMemoryAuditLog({ chainKey, redact: testRedact });
    expect(() => createApiKeyAdmin({ store: {} as KeyStore, audit })).toThrow(/store/);
    expect(() => createApiKeyAdmin({ store: createMemoryKeyStore({ pepper }), audit: {} as AuditLog })).toThrow(/audit/);
  });
});
