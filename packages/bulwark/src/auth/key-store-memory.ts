import type { KeyStore, LastUsedEntry, RevokeApiKeyResult } from './key-store.js';
import {
  checkGraceMs,
  encodeCursor,
  mintApiKey,
  mintSuccessor,
  resolveKeyStoreOptions,
  resolveListOptions,
  rotatedResult,
  rotationRefusal,
  signingMaterial,
  toRecord,
  toStored,
} from './key-store-records.js';
import type { ApiKeyRow, KeyStoreOptions } from './key-store-records.js';

export interface MemoryKeyStoreOptions extends KeyStoreOptions {
  /** Most keys held; creating one more throws. @default 100_000 */
  readonly maxKeys?: number | undefined;
}

/**
 * A {@link KeyStore} in process memory: for tests and single-instance set-ups without a database.
 * Everything is lost on restart. Behaves like the SQL store (same contract suite).
 *
 * @example
 * const store = createMemoryKeyStore({ pepper: keyring.subkey('api-key-pepper'), encryptor: keyring });
 * const { key } = await store.create({ name: 'ci', tenant: 'acme', scopes: ['deploy'] });
 */
export function createMemoryKeyStore(options: MemoryKeyStoreOptions): KeyStore {
  const resolved = resolveKeyStoreOptions(options, 'createMemoryKeyStore');
  const maxKeys = options.maxKeys ?? 100_000;
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new TypeError('createMemoryKeyStore: maxKeys must be a positive integer');
  const rows = new Map<string, ApiKeyRow>();
  const idByHash = new Map<string, string>();

  const insert = (row: ApiKeyRow): void => {
    if (rows.size >= maxKeys) throw new RangeError(`createMemoryKeyStore: the store is full (maxKeys ${maxKeys})`);
    rows.set(row.id, row);
    idByHash.set(row.hash, row.id);
  };
  const update = (row: ApiKeyRow, changes: Partial<ApiKeyRow>): ApiKeyRow => {
    const next = Object.freeze({ ...row, ...changes });
    rows.set(row.id, next);
    return next;
  };

  return {
    async create(input) {
      const minted = mintApiKey(input, resolved);
      insert(minted.row);
      const record = toRecord(minted.row);
      return minted.signingSecret === undefined ? { key: minted.key, record } : { key: minted.key, record, signingSecret: minted.signingSecret };
    },

    async get(id) {
      const row = rows.get(id);
      return row === undefined ? undefined : toRecord(row);
    },

    async list(listOptions) {
      const { tenant, includeRevoked, limit, after } = resolveListOptions(listOptions);
      const matching = [...rows.values()]
        .filter((row) => (tenant === undefined || row.tenant === tenant) && (includeRevoked || row.revokedAt === null))
        .filter((row) => after === undefined || row.createdAt.getTime() > after.createdAtMs || (row.createdAt.getTime() === after.createdAtMs && row.id > after.id))
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const records = matching.slice(0, limit).map(toRecord);
      const last = records.at(-1);
      return { records, nextCursor: matching.length > limit && last !== undefined ? encodeCursor(last) : undefined };
    },

    async findByHash(hash) {
      const id = typeof hash === 'string' ? idByHash.get(hash) : undefined;
      const row = id === undefined ? undefined : rows.get(id);
      return row === undefined ? undefined : toStored(row);
    },

    async rotate(id, rotateOptions) {
      const graceMs = checkGraceMs(rotateOptions);
      const previous = rows.get(id);
      if (previous === undefined) return { ok: false, reason: 'not_found' };
      const nowMs = resolved.now();
      const refusal = rotationRefusal(previous, nowMs);
      if (refusal !== undefined) return { ok: false, reason: refusal };
      const minted = mintSuccessor(previous, rotateOptions, resolved);
      insert(minted.row);
      const updated = update(previous, { rotatedTo: minted.row.id, graceUntil: new Date(nowMs + graceMs) });
      return rotatedResult(minted, updated);
    },

    async revoke(id): Promise<RevokeApiKeyResult> {
      const row = rows.get(id);
      if (row === undefined) return { ok: false, reason: 'not_found' };
      if (row.revokedAt !== null) return { ok: false, reason: 'revoked' };
      const revokedAt = new Date(resolved.now());
      const revokedIds: string[] = [];
      let updated = row;
      const seen = new Set<string>();
      for (let current: ApiKeyRow | undefined = row; current !== undefined && !seen.has(current.id); current = current.rotatedFrom === null ? undefined : rows.get(current.rotatedFrom)) {
        seen.add(current.id);
        if (current.revokedAt !== null) continue;
        const next = update(current, { revokedAt });
        if (current.id === id) updated = next;
        revokedIds.push(current.id);
      }
      return { ok: true, record: toRecord(updated), revokedIds };
    },

    async touch(entries: readonly LastUsedEntry[]) {
      for (const { id, at } of entries) {
        const row = rows.get(id);
        if (row !== undefined && (row.lastUsedAt === null || row.lastUsedAt.getTime() < at.getTime())) update(row, { lastUsedAt: new Date(at.getTime()) });
      }
    },

    async replaceHash(id, fromHash, toHash) {
      const row = rows.get(id);
      if (row === undefined || row.hash !== fromHash) return false;
      update(row, { hash: toHash });
      idByHash.delete(fromHash);
      idByHash.set(toHash, id);
      return true;
    },

    async signingKey(id) {
      const row = rows.get(id);
      return row === undefined ? undefined : signingMaterial(row, resolved);
    },
  };
}
