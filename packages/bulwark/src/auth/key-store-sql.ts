import type { SqlClient, SqlValue } from '../sql/sql-client.js';
import type { KeyRateLimit, KeyStore, LastUsedEntry, SigningAlgorithm } from './key-store.js';
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

export interface SqlKeyStoreOptions extends KeyStoreOptions {
  /** A migrated database (`openDatabase`): PostgreSQL or PGlite. */
  readonly sql: SqlClient;
}

interface DbRow {
  id: string;
  name: string;
  tenant: string;
  env: string;
  scopes: string[];
  display_prefix: string;
  hash: string;
  limits: KeyRateLimit[];
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  rotated_from: string | null;
  rotated_to: string | null;
  grace_until: Date | null;
  signing_algorithm: SigningAlgorithm | null;
  signing_secret: string | null;
  signing_public_key: string | null;
}

const COLUMNS =
  'id, name, tenant, env, scopes, display_prefix, hash, limits, created_at, expires_at, last_used_at, revoked_at, rotated_from, rotated_to, grace_until, signing_algorithm, signing_secret, signing_public_key';
/** Rows per `touch` statement: keeps bound arrays and lock sets small. */
const TOUCH_BATCH = 1000;

function fromDb(row: DbRow): ApiKeyRow {
  return Object.freeze({
    id: row.id,
    name: row.name,
    tenant: row.tenant,
    env: row.env,
    scopes: row.scopes,
    displayPrefix: row.display_prefix,
    hash: row.hash,
    limits: row.limits,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    rotatedFrom: row.rotated_from,
    rotatedTo: row.rotated_to,
    graceUntil: row.grace_until,
    signingAlgorithm: row.signing_algorithm,
    signingSecret: row.signing_secret,
    signingPublicKey: row.signing_public_key,
  });
}

async function insertRow(sql: SqlClient, row: ApiKeyRow): Promise<void> {
  const values: SqlValue[] = [
    row.id,
    row.name,
    row.tenant,
    row.env,
    row.scopes,
    row.displayPrefix,
    row.hash,
    JSON.stringify(row.limits),
    row.createdAt,
    row.expiresAt,
    row.rotatedFrom,
    row.signingAlgorithm,
    row.signingSecret,
    row.signingPublicKey,
  ];
  await sql.query(
    `INSERT INTO bulwark_api_keys (id, name, tenant, env, scopes, display_prefix, hash, limits, created_at, expires_at, rotated_from, signing_algorithm, signing_secret, signing_public_key)
     VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8::jsonb, $9, $10, $11, $12, $13, $14)`,
    values,
  );
}

async function selectOne(sql: SqlClient, id: string, forUpdate = false): Promise<ApiKeyRow | undefined> {
  const { rows } = await sql.query<DbRow>(`SELECT ${COLUMNS} FROM bulwark_api_keys WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  const row = rows[0];
  return row === undefined ? undefined : fromDb(row);
}

/**
 * A {@link KeyStore} in SQL (`bulwark_api_keys`, migration 1): PostgreSQL or PGlite through the same
 * statements, all parameterised. Rotation and revocation lock the rows they change (`FOR UPDATE`),
 * so two admins acting at once cannot fork a key into two successors.
 *
 * @example
 * const db = await openDatabase({ url: process.env.DATABASE_URL, dataDir: process.env.BULWARK_DATA_DIR });
 * const store = createSqlKeyStore({ sql: db, pepper: keyring.subkey('api-key-pepper'), encryptor: keyring });
 */
export function createSqlKeyStore(options: SqlKeyStoreOptions): KeyStore {
  const resolved = resolveKeyStoreOptions(options, 'createSqlKeyStore');
  const { sql } = options;
  if (typeof sql?.query !== 'function' || typeof sql.transaction !== 'function') throw new TypeError('createSqlKeyStore: sql must be a SqlClient (openDatabase)');
  /** Runs in the caller's transaction (as a savepoint) when one is given, else in a new one. */
  const inTransaction = <T>(tx: SqlClient | undefined, fn: (client: SqlClient) => Promise<T>): Promise<T> => (tx ?? sql).transaction(fn);

  return {
    async create(input, tx) {
      const minted = mintApiKey(input, resolved);
      await insertRow(tx ?? sql, minted.row);
      const record = toRecord(minted.row);
      return minted.signingSecret === undefined ? { key: minted.key, record } : { key: minted.key, record, signingSecret: minted.signingSecret };
    },

    async get(id) {
      if (typeof id !== 'string') return undefined;
      const row = await selectOne(sql, id);
      return row === undefined ? undefined : toRecord(row);
    },

    async list(listOptions) {
      const { tenant, includeRevoked, limit, after } = resolveListOptions(listOptions);
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (tenant !== undefined) {
        params.push(tenant);
        where.push(`tenant = $${params.length}`);
      }
      if (!includeRevoked) where.push('revoked_at IS NULL');
      if (after !== undefined) {
        params.push(new Date(after.createdAtMs), after.id);
        const at = `$${params.length - 1}`;
        const id = `$${params.length}`;
        // COLLATE "C": byte order, the same on every server whatever its locale (and the same as the memory store).
        where.push(`(created_at > ${at} OR (created_at = ${at} AND id COLLATE "C" > ${id}))`);
      }
      params.push(limit + 1);
      const { rows } = await sql.query<DbRow>(
        `SELECT ${COLUMNS} FROM bulwark_api_keys ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY created_at, id COLLATE "C" LIMIT $${params.length}`,
        params,
      );
      const records = rows.slice(0, limit).map((row) => toRecord(fromDb(row)));
      const last = records.at(-1);
      return { records, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last) : undefined };
    },

    async findByHash(hash) {
      if (typeof hash !== 'string') return undefined;
      const { rows } = await sql.query<DbRow>(`SELECT ${COLUMNS} FROM bulwark_api_keys WHERE hash = $1`, [hash]);
      const row = rows[0];
      return row === undefined ? undefined : toStored(fromDb(row));
    },

    async rotate(id, rotateOptions, tx) {
      const graceMs = checkGraceMs(rotateOptions);
      return inTransaction(tx, async (client) => {
        const previous = await selectOne(client, id, true);
        if (previous === undefined) return { ok: false, reason: 'not_found' } as const;
        const nowMs = resolved.now();
        const refusal = rotationRefusal(previous, nowMs);
        if (refusal !== undefined) return { ok: false, reason: refusal } as const;
        const minted = mintSuccessor(previous, rotateOptions, resolved);
        await insertRow(client, minted.row);
        const { rows } = await client.query<DbRow>(`UPDATE bulwark_api_keys SET rotated_to = $2, grace_until = $3 WHERE id = $1 RETURNING ${COLUMNS}`, [
          id,
          minted.row.id,
          new Date(nowMs + graceMs),
        ]);
        const updated = rows[0];
        if (updated === undefined) throw new Error(`api key ${id} vanished during rotation`);
        return rotatedResult(minted, fromDb(updated));
      });
    },

    async revoke(id, tx) {
      return inTransaction(tx, async (client) => {
        const row = await selectOne(client, id, true);
        if (row === undefined) return { ok: false, reason: 'not_found' } as const;
        if (row.revokedAt !== null) return { ok: false, reason: 'revoked' } as const;
        const revokedAt = new Date(resolved.now());
        // The key and its predecessors (still valid during their rotation grace period).
        const { rows } = await client.query<DbRow>(
          `WITH RECURSIVE chain(id, rotated_from) AS (
             SELECT id, rotated_from FROM bulwark_api_keys WHERE id = $1
             UNION
             SELECT k.id, k.rotated_from FROM bulwark_api_keys k JOIN chain c ON k.id = c.rotated_from
           )
           UPDATE bulwark_api_keys SET revoked_at = $2 WHERE id IN (SELECT id FROM chain) AND revoked_at IS NULL RETURNING ${COLUMNS}`,
          [id, revokedAt],
        );
        const updated = rows.find((candidate) => candidate.id === id);
        if (updated === undefined) throw new Error(`api key ${id} vanished during revocation`);
        const revokedIds = [id, ...rows.map((candidate) => candidate.id).filter((candidateId) => candidateId !== id)];
        return { ok: true, record: toRecord(fromDb(updated)), revokedIds };
      });
    },

    async touch(entries: readonly LastUsedEntry[]) {
      for (let start = 0; start < entries.length; start += TOUCH_BATCH) {
        const batch = entries.slice(start, start + TOUCH_BATCH);
        await sql.query(
          `UPDATE bulwark_api_keys AS k SET last_used_at = v.at
           FROM unnest($1::text[], $2::timestamptz[]) AS v(id, at)
           WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)`,
          [batch.map((entry) => entry.id), batch.map((entry) => entry.at)],
        );
      }
    },

    async replaceHash(id, fromHash, toHash) {
      const { rows } = await sql.query<{ id: string }>('UPDATE bulwark_api_keys SET hash = $3 WHERE id = $1 AND hash = $2 RETURNING id', [id, fromHash, toHash]);
      return rows.length === 1;
    },

    async signingKey(id) {
      if (typeof id !== 'string') return undefined;
      const row = await selectOne(sql, id);
      return row === undefined ? undefined : signingMaterial(row, resolved);
    },
  };
}
