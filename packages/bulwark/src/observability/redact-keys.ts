/**
 * Which object keys hold secrets. Keys are compared after normalisation (lower case, `-` and `_`
 * removed), so `Authorization`, `AUTHORIZATION`, `x-api-key`, `X_API_KEY`, `apiKey` and `api_key`
 * are one rule each, not six.
 */

/**
 * The key names whose values the logger always replaces with `[REDACTED]`, at any depth. Extra names
 * can be added per logger (`redactKeys`); none can be removed, on purpose.
 */
export const DEFAULT_REDACT_KEYS: readonly string[] = Object.freeze([
  // credentials in HTTP headers
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'apikey',
  'api_key',
  'x-auth-token',
  'x-csrf-token',
  'x-xsrf-token',
  // passwords and secrets
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'client_secret',
  'credentials',
  'private_key',
  'master_key',
  'pepper',
  // tokens
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'auth_token',
  'api_token',
  'session_token',
  // signatures (RFC 9421, webhooks)
  'x-signature',
  'signature',
  'signature-input',
  'x-hub-signature-256',
  'stripe-signature',
  'webhook-signature',
  // sessions and CSRF
  'session',
  'sessionid',
  'csrf',
  'csrf_token',
  'xsrf_token',
]);

/** `X-Api-Key`, `x_api_key` and `xApiKey` all become `xapikey`. */
export function normaliseKey(key: string): string {
  return key.replace(/[-_]/g, '').toLowerCase();
}

/** Largest number of distinct keys whose verdict is cached before the cache starts over. */
const VERDICT_CACHE_SIZE = 4096;

/**
 * A predicate telling whether a key names a secret. Log objects repeat the same few dozen keys, so
 * verdicts are cached by the exact key string: the common case is one hash lookup, with no
 * `toLowerCase` allocation. A `Map` rather than a dictionary object: the keys the scrubber cuts out
 * of text are fresh strings, which a `Map` hashes in place where an object property lookup first
 * searches V8's string table. The cache is bounded; hostile objects with endless fresh keys only
 * make it start over.
 */
export type SecretKeyMatcher = (key: string) => boolean;

export function createSecretKeyMatcher(extraKeys: readonly string[] = []): SecretKeyMatcher {
  const secretKeys = new Set<string>();
  for (const key of [...DEFAULT_REDACT_KEYS, ...extraKeys]) secretKeys.add(normaliseKey(key));
  const verdicts = new Map<string, boolean>();
  return function isSecretKey(key: string): boolean {
    const cached = verdicts.get(key);
    if (cached !== undefined) return cached;
    const verdict = secretKeys.has(normaliseKey(key));
    if (verdicts.size >= VERDICT_CACHE_SIZE) verdicts.clear();
    verdicts.set(key, verdict);
    return verdict;
  };
}
