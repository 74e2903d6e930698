import type { Migration } from './migrate.js';

/**
 * Bulwark's schema, as numbered migrations. Released migrations are never edited (their checksum
 * is recorded): a change is a new entry at the end.
 *
 * - `bulwark_api_keys`: API keys. `hash` is HMAC-SHA256(pepper, key) in hex — the key itself is
 *   never stored. A rotation inserts the successor and sets `rotated_to`/`grace_until` on the old
 *   row. `signing_secret` is an encrypted envelope (never the plain secret).
 * - `bulwark_audit_log` + `bulwark_audit_head`: the hash-chained audit log. Ids are assigned from
 *   the head row under its lock, so they are gap-free (a sequence would leave gaps on rollback,
 *   indistinguishable from a deleted entry). `input` holds canonical JSON text, hashed as stored.
 */
export const BULWARK_MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'api keys',
    statements: [
      `CREATE TABLE bulwark_api_keys (
        id text PRIMARY KEY,
        name text NOT NULL,
        tenant text NOT NULL,
        env text NOT NULL,
        scopes text[] NOT NULL,
        display_prefix text NOT NULL,
        hash text NOT NULL,
        limits jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz,
        last_used_at timestamptz,
        revoked_at timestamptz,
        rotated_from text,
        rotated_to text,
        grace_until timestamptz,
        signing_algorithm text,
        signing_secret text,
        signing_public_key text,
        CONSTRAINT bulwark_api_keys_hash_unique UNIQUE (hash),
        CONSTRAINT bulwark_api_keys_signing_algorithm CHECK (signing_algorithm IS NULL OR signing_algorithm IN ('hmac-sha256', 'ed25519'))
      )`,
      'CREATE INDEX bulwark_api_keys_created ON bulwark_api_keys (created_at, id)',
      'CREATE INDEX bulwark_api_keys_tenant_created ON bulwark_api_keys (tenant, created_at, id)',
    ],
  },
  {
    version: 2,
    name: 'audit log',
    statements: [
      `CREATE TABLE bulwark_audit_log (
        id bigint PRIMARY KEY,
        at timestamptz NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        target text,
        request_id text,
        client_ip text,
        outcome text NOT NULL,
        input text,
        prev_hash text NOT NULL,
        hash text NOT NULL
      )`,
      'CREATE INDEX bulwark_audit_log_action ON bulwark_audit_log (action, id)',
      'CREATE INDEX bulwark_audit_log_actor ON bulwark_audit_log (actor, id)',
      'CREATE INDEX bulwark_audit_log_at ON bulwark_audit_log (at, id)',
      'CREATE TABLE bulwark_audit_head (chain text PRIMARY KEY, last_id bigint NOT NULL, last_hash text NOT NULL)',
      `INSERT INTO bulwark_audit_head (chain, last_id, last_hash) VALUES ('main', 0, '${'0'.repeat(64)}') ON CONFLICT (chain) DO NOTHING`,
    ],
  },
]);
