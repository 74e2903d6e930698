/**
 * What the SQL and memory key stores share: input validation, minting keys and rotations, signing
 * material, list cursors. The stores only persist.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { generateApiKey, generateKeyId, isApiKeyEnv, parseApiKey } from './api-key-format.js';
import { checkPepper, hashApiKey } from './api-key-hash.js';
import type {
  ApiKeyRecord,
  CreateApiKeyInput,
  KeyRateLimit,
  ListApiKeysOptions,
  RotateApiKeyOptions,
  RotateApiKeyResult,
  SigningAlgorithm,
  SigningKeyMaterial,
  StoredApiKey,
} from './key-store.js';
import { apiKeyStatus } from './key-store.js';

/** Encrypts signing secrets at rest. A `bulwark/crypto` keyring satisfies it. */
export interface SecretEncryptor {
  encrypt(plaintext: Buffer | string, aad?: string): string;
  /** @throws when the envelope is altered or under an unknown key. */
  decrypt(envelope: string, aad?: string): Buffer;
}

export interface KeyStoreOptions {
  /** The server-side pepper, ≥ 32 bytes (`keyring.subkey('api-key-pepper')`). */
  readonly pepper: Buffer;
  /** Encrypts `hmac-sha256` signing secrets (a keyring). Required only to create such keys. @default undefined */
  readonly encryptor?: SecretEncryptor | undefined;
  /** Clock, in epoch milliseconds. @default Date.now */
  readonly now?: (() => number) | undefined;
}

export interface ResolvedKeyStoreOptions {
  readonly pepper: Buffer;
  readonly encryptor: SecretEncryptor | undefined;
  readonly now: () => number;
}

/** A stored row: the record, its hash, and its signing material (encrypted secret or public key). */
export interface ApiKeyRow extends StoredApiKey {
  readonly signingSecret: string | null;
  readonly signingPublicKey: string | null;
}

export interface MintedKey {
  readonly row: ApiKeyRow;
  readonly key: string;
  readonly signingSecret?: string;
}

const TEXT_MAX = 200;
const MAX_SCOPES = 100;
const MAX_LIMITS = 10;
const MAX_WINDOW_MS = 31 * 86_400_000;
const MAX_GRACE_MS = 30 * 86_400_000;
export const DEFAULT_GRACE_MS = 86_400_000;
const SCOPE = /^(?:\*|[A-Za-z0-9_.:-]{1,64}(?::\*)?)$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function resolveKeyStoreOptions(options: KeyStoreOptions, factory: string): ResolvedKeyStoreOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${factory}: options must be an object`);
  const pepper = checkPepper(options.pepper, `${factory}: pepper`);
  const { encryptor } = options;
  if (encryptor !== undefined && (typeof encryptor.encrypt !== 'function' || typeof encryptor.decrypt !== 'function')) {
    throw new TypeError(`${factory}: encryptor must have encrypt and decrypt (a bulwark/crypto keyring)`);
  }
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError(`${factory}: now must be a function returning epoch milliseconds`);
  return { pepper, encryptor, now };
}

function checkText(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > TEXT_MAX || CONTROL.test(value)) {
    throw new TypeError(`${name} must be a string of 1–${TEXT_MAX} characters without control characters`);
  }
  return value;
}

function checkScopes(value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_SCOPES || !value.every((scope) => typeof scope === 'string' && SCOPE.test(scope))) {
    throw new TypeError(`scopes must be an array of at most ${MAX_SCOPES} scopes, each ${SCOPE.source}`);
  }
  return Object.freeze([...new Set(value as string[])]);
}

function checkLimits(value: unknown): readonly KeyRateLimit[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_LIMITS) throw new TypeError(`limits must be an array of at most ${MAX_LIMITS} { limit, windowMs }`);
  return Object.freeze(
    value.map((item: unknown) => {
      const { limit, windowMs } = (item ?? {}) as { limit?: unknown; windowMs?: unknown };
      if (!Number.isSafeInteger(limit) || (limit as number) < 1 || !Number.isSafeInteger(windowMs) || (windowMs as number) < 1 || (windowMs as number) > MAX_WINDOW_MS) {
        throw new TypeError(`each limit must be { limit: integer ≥ 1, windowMs: integer from 1 to ${MAX_WINDOW_MS} }`);
      }
      return Object.freeze({ limit: limit as number, windowMs: windowMs as number });
    }),
  );
}

function checkExpiry(value: unknown): Date | null {
  if (value === undefined || value === null) return null;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new TypeError('expiresAt must be a valid Date or null');
  return new Date(value.getTime());
}

/** Ed25519 public key from raw base64url (32 bytes) or SPKI PEM, normalised to raw base64url. */
function checkEd25519PublicKey(value: unknown): string {
  let key: KeyObject;
  try {
    if (typeof value !== 'string') throw new TypeError('not a string');
    key = value.includes('BEGIN PUBLIC KEY')
      ? createPublicKey(value)
      : createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: value }, format: 'jwk' });
  } catch {
    throw new TypeError('signing.publicKey must be an Ed25519 public key: 32 bytes in base64url, or an SPKI PEM');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('signing.publicKey must be an Ed25519 key');
  const { x } = key.export({ format: 'jwk' });
  if (typeof x !== 'string') throw new TypeError('signing.publicKey could not be exported');
  return x;
}

function signingAad(id: string): string {
  return `bulwark:api-key:${id}:signing-secret`;
}

interface SigningMint {
  readonly algorithm: SigningAlgorithm | null;
  readonly secretEnvelope: string | null;
  readonly publicKey: string | null;
  readonly secret?: string;
}

function mintSigning(id: string, algorithm: SigningAlgorithm | null, publicKey: unknown, options: ResolvedKeyStoreOptions): SigningMint {
  if (algorithm === null) return { algorithm: null, secretEnvelope: null, publicKey: null };
  if (algorithm === 'ed25519') return { algorithm, secretEnvelope: null, publicKey: checkEd25519PublicKey(publicKey) };
  if (options.encryptor === undefined) throw new TypeError('hmac-sha256 signing keys need the store option encryptor (a keyring), to store the secret encrypted');
  const secret = randomBytes(32);
  try {
    return { algorithm, secretEnvelope: options.encryptor.encrypt(secret, signingAad(id)), publicKey: null, secret: secret.toString('base64url') };
  } finally {
    secret.fill(0);
  }
}

function newRow(fields: Omit<ApiKeyRow, 'id' | 'hash' | 'displayPrefix' | 'createdAt' | 'lastUsedAt' | 'revokedAt' | 'rotatedTo' | 'graceUntil' | 'signingAlgorithm' | 'signingSecret' | 'signingPublicKey'>, signing: { algorithm: SigningAlgorithm | null; publicKey: unknown }, options: ResolvedKeyStoreOptions): MintedKey {
  const id = generateKeyId();
  const key = generateApiKey(fields.env);
  const parsed = parseApiKey(key);
  if (!parsed.ok) throw new Error('generated an unparsable API key'); // unreachable: generateApiKey emits the format
  const minted = mintSigning(id, signing.algorithm, signing.publicKey, options);
  const row: ApiKeyRow = Object.freeze({
    ...fields,
    id,
    hash: hashApiKey(options.pepper, key),
    displayPrefix: parsed.displayPrefix,
    createdAt: new Date(options.now()),
    lastUsedAt: null,
    revokedAt: null,
    rotatedTo: null,
    graceUntil: null,
    signingAlgorithm: minted.algorithm,
    signingSecret: minted.secretEnvelope,
    signingPublicKey: minted.publicKey,
  });
  return minted.secret === undefined ? { row, key } : { row, key, signingSecret: minted.secret };
}

/**
 * Validates creation input and mints the key: id, plain key, hash, signing material.
 * @throws TypeError naming the invalid field.
 */
export function mintApiKey(input: CreateApiKeyInput, options: ResolvedKeyStoreOptions): MintedKey {
  if (typeof input !== 'object' || input === null) throw new TypeError('create: input must be an object');
  const env = input.env ?? 'live';
  if (!isApiKeyEnv(env)) throw new TypeError('env must match [a-z0-9]{1,16}');
  const signing = input.signing;
  if (signing !== undefined && signing.algorithm !== 'hmac-sha256' && signing.algorithm !== 'ed25519') {
    throw new TypeError("signing.algorithm must be 'hmac-sha256' or 'ed25519'");
  }
  return newRow(
    {
      name: checkText(input.name, 'name'),
      tenant: checkText(input.tenant, 'tenant'),
      env,
      scopes: checkScopes(input.scopes),
      limits: checkLimits(input.limits),
      expiresAt: checkExpiry(input.expiresAt),
      rotatedFrom: null,
    },
    { algorithm: signing?.algorithm ?? null, publicKey: signing?.algorithm === 'ed25519' ? signing.publicKey : undefined },
    options,
  );
}

/** Why `row` cannot be rotated now, if it cannot. */
export function rotationRefusal(row: ApiKeyRecord, nowMs: number): 'revoked' | 'expired' | 'rotated' | undefined {
  const status = apiKeyStatus(row, nowMs);
  if (status !== 'active') return status;
  return row.rotatedTo === null ? undefined : 'rotated';
}

export function checkGraceMs(options: RotateApiKeyOptions | undefined): number {
  const graceMs = options?.graceMs ?? DEFAULT_GRACE_MS;
  if (!Number.isSafeInteger(graceMs) || graceMs < 0 || graceMs > MAX_GRACE_MS) {
    throw new TypeError(`graceMs must be an integer from 0 to ${MAX_GRACE_MS} (30 days)`);
  }
  return graceMs;
}

/** The successor of `previous` (same name, tenant, scopes, limits, expiry and signing algorithm). */
export function mintSuccessor(previous: ApiKeyRow, options: RotateApiKeyOptions | undefined, resolved: ResolvedKeyStoreOptions): MintedKey {
  if (previous.signingAlgorithm === 'ed25519' && options?.publicKey === undefined) {
    throw new TypeError('rotating an ed25519 signing key needs the new publicKey');
  }
  return newRow(
    {
      name: previous.name,
      tenant: previous.tenant,
      env: previous.env,
      scopes: previous.scopes,
      limits: previous.limits,
      expiresAt: previous.expiresAt,
      rotatedFrom: previous.id,
    },
    { algorithm: previous.signingAlgorithm, publicKey: options?.publicKey },
    resolved,
  );
}

export function rotatedResult(minted: MintedKey, previous: ApiKeyRow): RotateApiKeyResult {
  const base = { ok: true as const, key: minted.key, record: toRecord(minted.row), previous: toRecord(previous) };
  return minted.signingSecret === undefined ? base : { ...base, signingSecret: minted.signingSecret };
}

/** The public record: no hash, no signing material. */
export function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return Object.freeze({
    id: row.id,
    name: row.name,
    tenant: row.tenant,
    env: row.env,
    scopes: Object.freeze([...row.scopes]),
    displayPrefix: row.displayPrefix,
    limits: Object.freeze(row.limits.map((limit) => Object.freeze({ limit: limit.limit, windowMs: limit.windowMs }))),
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
    rotatedFrom: row.rotatedFrom,
    rotatedTo: row.rotatedTo,
    graceUntil: row.graceUntil,
    signingAlgorithm: row.signingAlgorithm,
  });
}

/** The record with its hash, for the verifier. */
export function toStored(row: ApiKeyRow): StoredApiKey {
  return Object.freeze({ ...toRecord(row), hash: row.hash });
}

/**
 * Decrypts or rebuilds the signing material of a row.
 * @throws the encryptor's error when the secret cannot be decrypted (wrong master key, altered row).
 */
export function signingMaterial(row: ApiKeyRow, options: ResolvedKeyStoreOptions): SigningKeyMaterial | undefined {
  const record = toRecord(row);
  if (row.signingAlgorithm === 'ed25519' && row.signingPublicKey !== null) {
    return { record, algorithm: 'ed25519', publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: row.signingPublicKey }, format: 'jwk' }) };
  }
  if (row.signingAlgorithm === 'hmac-sha256' && row.signingSecret !== null) {
    if (options.encryptor === undefined) throw new TypeError('reading an hmac-sha256 signing key needs the store option encryptor');
    return { record, algorithm: 'hmac-sha256', secret: options.encryptor.decrypt(row.signingSecret, signingAad(row.id)) };
  }
  return undefined;
}

export interface ResolvedListOptions {
  readonly tenant: string | undefined;
  readonly includeRevoked: boolean;
  readonly limit: number;
  readonly after: { readonly createdAtMs: number; readonly id: string } | undefined;
}

/** Cursor: base64url of `[createdAtMs, id]` of the last record of the page. */
export function encodeCursor(record: ApiKeyRecord): string {
  return Buffer.from(JSON.stringify([record.createdAt.getTime(), record.id]), 'utf8').toString('base64url');
}

const EARLIEST_CURSOR_MS = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST_CURSOR_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** @throws TypeError on an invalid option or a cursor that is not one of ours. */
export function resolveListOptions(options: ListApiKeysOptions = {}): ResolvedListOptions {
  const limit = options.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new TypeError('list: limit must be an integer from 1 to 1000');
  if (options.tenant !== undefined) checkText(options.tenant, 'list: tenant');
  let after: ResolvedListOptions['after'];
  if (options.cursor !== undefined) {
    let decoded: unknown;
    try {
      decoded = typeof options.cursor === 'string' && options.cursor.length <= 200 ? JSON.parse(Buffer.from(options.cursor, 'base64url').toString('utf8')) : undefined;
    } catch {
      decoded = undefined;
    }
    // The time must be one a database timestamp can hold (years 1–9999), or the query fails in the
    // database and the caller reads an outage (503) where the cursor was simply not ours.
    if (
      !Array.isArray(decoded) ||
      decoded.length !== 2 ||
      !Number.isSafeInteger(decoded[0]) ||
      (decoded[0] as number) < EARLIEST_CURSOR_MS ||
      (decoded[0] as number) > LATEST_CURSOR_MS ||
      typeof decoded[1] !== 'string' ||
      !/^key_[0-9A-Za-z]{22}$/.test(decoded[1])
    ) {
      throw new TypeError('list: cursor is not a cursor returned by list');
    }
    after = { createdAtMs: decoded[0] as number, id: decoded[1] };
  }
  return { tenant: options.tenant, includeRevoked: options.includeRevoked ?? false, limit, after };
}
