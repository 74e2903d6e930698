import { ApiError } from '../errors/api-error.js';
import { errors } from '../errors/factories.js';
import type { ErrorCode } from '../errors/catalogue.js';
import { requireScopes } from './api-key-scopes.js';
import type { ApiKeyFailureReason, ApiKeyVerifier } from './api-key-verifier.js';
import type { KeyRateLimit } from './key-store.js';

/** What an authenticated request carries (`req.bulwark` in the Express and Fastify adapters). */
export interface BulwarkApiKeyIdentity {
  readonly keyId: string;
  readonly tenant: string;
  readonly scopes: readonly string[];
  readonly env: string;
  readonly name: string;
  /** The key's own rate limits, for the rate limiter keyed by identity. */
  readonly limits: readonly KeyRateLimit[];
}

export interface ApiKeyAuthOptions {
  readonly verifier: Pick<ApiKeyVerifier, 'verify'>;
  /** Header holding the key (case-insensitive). @default 'x-api-key' */
  readonly header?: string | undefined;
  /** Also accept `Authorization: Bearer bw_…` when the header is absent. @default true */
  readonly bearer?: boolean | undefined;
  /** Scopes the key must hold (403 INSUFFICIENT_SCOPE otherwise). @default [] */
  readonly scopes?: readonly string[] | undefined;
  /** `realm` of the `WWW-Authenticate` challenge on 401 (RFC 9110 §11.6.1). @default 'api' */
  readonly realm?: string | undefined;
}

export interface ResolvedApiKeyAuthOptions {
  readonly verifier: Pick<ApiKeyVerifier, 'verify'>;
  readonly header: string;
  readonly bearer: boolean;
  readonly scopes: readonly string[];
  readonly realm: string;
}

export type ApiKeyAuthResult = { readonly ok: true; readonly identity: BulwarkApiKeyIdentity } | { readonly ok: false; readonly error: ApiError };

type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
const REALM = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/;
/** `Bearer` (any case), one or more spaces, a token68 (RFC 6750 §2.1), optional trailing spaces. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

const CODES: Readonly<Record<ApiKeyFailureReason, ErrorCode>> = {
  missing: 'API_KEY_MISSING',
  malformed: 'API_KEY_MALFORMED',
  invalid: 'API_KEY_INVALID',
  expired: 'API_KEY_EXPIRED',
  revoked: 'API_KEY_REVOKED',
};

export function resolveApiKeyAuthOptions(options: ApiKeyAuthOptions, factory: string): ResolvedApiKeyAuthOptions {
  if (typeof options?.verifier?.verify !== 'function') throw new TypeError(`${factory}: verifier must be an ApiKeyVerifier (createApiKeyVerifier)`);
  const header = options.header ?? 'x-api-key';
  if (typeof header !== 'string' || !TOKEN.test(header) || header.toLowerCase() === 'authorization') {
    throw new TypeError(`${factory}: header must be a header name other than authorization (use bearer for that)`);
  }
  const scopes = options.scopes ?? [];
  if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string' && scope.length > 0)) throw new TypeError(`${factory}: scopes must be an array of non-empty strings`);
  const realm = options.realm ?? 'api';
  if (typeof realm !== 'string' || !REALM.test(realm)) throw new TypeError(`${factory}: realm must be 1–64 printable characters without quotes or backslashes`);
  return { verifier: options.verifier, header: header.toLowerCase(), bearer: options.bearer ?? true, scopes: Object.freeze([...scopes]), realm };
}

/**
 * The presented key: the configured header (several values → an array, which verifies as
 * malformed), else a Bearer token. Another `Authorization` scheme counts as no key.
 */
export function presentedApiKey(headers: Headers, options: ResolvedApiKeyAuthOptions): unknown {
  const direct = headers[options.header];
  if (direct !== undefined) return Array.isArray(direct) && direct.length === 1 ? direct[0] : direct;
  if (!options.bearer) return undefined;
  const authorization = headers.authorization;
  if (typeof authorization !== 'string') return undefined;
  const match = BEARER.exec(authorization);
  return match === null ? (/^Bearer\b/i.test(authorization) ? authorization : undefined) : match[1];
}

function failure(reason: ApiKeyFailureReason, realm: string): ApiError {
  const challenge = reason === 'missing' ? `Bearer realm="${realm}"` : `Bearer realm="${realm}", error="invalid_token"`;
  const detail =
    reason === 'missing'
      ? 'Send an API key in the X-Api-Key header or as Authorization: Bearer.'
      : reason === 'malformed'
        ? 'The API key is not in the bw_<env>_… format, or its checksum does not match.'
        : reason === 'expired'
          ? 'The API key has expired (or was replaced by a rotation); use its replacement.'
          : reason === 'revoked'
            ? 'The API key has been revoked.'
            : 'The API key is not valid.';
  return new ApiError(CODES[reason], { detail, headers: { 'www-authenticate': challenge } });
}

/**
 * Authenticates a request's headers: the framework-neutral core of the Express and Fastify
 * adapters. Failures are `ApiError`s to pass to the framework's error path (401 with
 * `WWW-Authenticate`, 403 `INSUFFICIENT_SCOPE`, 503 `DEPENDENCY_UNAVAILABLE` when the key store is
 * down on a cache miss).
 */
export async function authenticateApiKey(headers: Headers, options: ResolvedApiKeyAuthOptions): Promise<ApiKeyAuthResult> {
  let result;
  try {
    result = await options.verifier.verify(presentedApiKey(headers, options));
  } catch (cause) {
    return { ok: false, error: new ApiError('DEPENDENCY_UNAVAILABLE', { detail: 'API keys cannot be checked right now; retry shortly.', headers: { 'retry-after': '1' }, cause }) };
  }
  if (!result.ok) return { ok: false, error: failure(result.reason, options.realm) };
  const check = requireScopes(result.key, options.scopes);
  if (!check.ok) return { ok: false, error: errors.insufficientScope(check.missing) };
  const { key } = result;
  return { ok: true, identity: Object.freeze({ keyId: key.id, tenant: key.tenant, scopes: key.scopes, env: key.env, name: key.name, limits: key.limits }) };
}
