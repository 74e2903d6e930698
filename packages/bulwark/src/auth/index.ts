/**
 * Authentication: length-safe comparison, RFC 9421 request signatures (verifier and signer),
 * Content-Digest, the legacy shared-secret HMAC, webhook verification (Standard Webhooks, Stripe,
 * GitHub) and replay (nonce) stores. See docs/signatures.md and docs/webhooks.md.
 */
export { safeEqual } from './safe-equal.js';
// --- request signatures (RFC 9421) ---
export { createSignatureVerifier } from './signature-verifier.js';
export type { SignatureVerifier, SignatureVerifierOptions } from './signature-verifier.js';
export { SIGNATURE_ALGORITHMS, SIGNATURE_FAILURE_REASONS } from './signature-types.js';
export type { SignatureAlgorithm, SignatureKey, SignatureKeyLookup, SignatureFailureReason, SignatureRequest, SignatureVerification, SignatureVerified, VerificationFailure } from './signature-types.js';
export { hmacSignatureKey, ed25519SignatureKey, MIN_HMAC_SECRET_BYTES } from './signature-key.js';
export type { HeaderBag, HeadersLike } from './signature-headers.js';
export { createSigner, signRequest } from './signer.js';
export type { SignOptions, SignableRequest, SignatureHeaders, RequestSigner } from './signer.js';
export { createSigningFetch } from './signer-fetch.js';
export type { SigningFetchOptions } from './signer-fetch.js';
export { createSigningInterceptor } from './signer-undici.js';
export type { DispatchOptionsLike, DispatchLike } from './signer-undici.js';
export { contentDigest, checkContentDigest } from './content-digest.js';
export type { ContentDigestAlgorithm, ContentDigestCheck } from './content-digest.js';
// --- legacy shared-secret HMAC ---
export { createLegacyHmacVerifier, signLegacy } from './legacy-hmac.js';
export type { LegacyHmacVerifier, LegacyHmacVerifierOptions, LegacyHmacRequest, LegacyHmacVerification, LegacyHmacFailureReason, SignLegacyOptions } from './legacy-hmac.js';
export { MIN_SHARED_SECRET_BYTES } from './legacy-hmac-secret.js';
// --- webhooks ---
export { createWebhookVerifier } from './webhook-verifier.js';
export type { WebhookVerifier, WebhookVerifierOptions } from './webhook-verifier.js';
export { WEBHOOK_SCHEMES, WEBHOOK_FAILURE_REASONS } from './webhook-types.js';
export type { WebhookScheme, WebhookFailureReason, WebhookVerification, WebhookVerified, WebhookDelivery } from './webhook-types.js';
// --- replay (nonce) stores ---
export { ReplayStoreFullError } from './replay-store.js';
export type { ReplayStore, NonceStore } from './replay-store.js';
export { createMemoryReplayStore } from './memory-replay-store.js';
export type { MemoryReplayStore, MemoryReplayStoreOptions } from './memory-replay-store.js';
export { createRedisReplayStore } from './redis-replay-store.js';
export type { RedisReplayStoreOptions, ReplayRedisClient } from './redis-replay-store.js';
// --- API keys (docs/api-keys.md) ---
export { generateApiKey, parseApiKey, isApiKeyEnv, generateKeyId, API_KEY_PATTERN, API_KEY_MIN_LENGTH, API_KEY_MAX_LENGTH } from './api-key-format.js';
export type { ParsedApiKey, ApiKeyParseFailure } from './api-key-format.js';
export { hashApiKey, apiKeyPeppers, PEPPER_MIN_BYTES } from './api-key-hash.js';
export type { ApiKeyPeppers, PepperSource } from './api-key-hash.js';
export { apiKeyStatus } from './key-store.js';
export type { KeyStore, ApiKeyRecord, StoredApiKey, ApiKeyStatus, KeyRateLimit, SigningAlgorithm, SigningKeyInput, SigningKeyMaterial, CreateApiKeyInput, CreatedApiKey, RotateApiKeyOptions, RotateApiKeyResult, RevokeApiKeyResult, ListApiKeysOptions, ApiKeyPage, LastUsedEntry } from './key-store.js';
export type { KeyStoreOptions, SecretEncryptor } from './key-store-records.js';
export { createMemoryKeyStore } from './key-store-memory.js';
export type { MemoryKeyStoreOptions } from './key-store-memory.js';
export { createSqlKeyStore } from './key-store-sql.js';
export type { SqlKeyStoreOptions } from './key-store-sql.js';
export { createLastUsedRecorder } from './key-store-last-used.js';
export type { LastUsedRecorder, LastUsedRecorderOptions } from './key-store-last-used.js';
export type { KeyCacheOptions } from './key-cache.js';
export { createApiKeyVerifier } from './api-key-verifier.js';
export type { ApiKeyVerifier, ApiKeyVerifierOptions, ApiKeyVerification, ApiKeyFailureReason, VerifiedApiKey } from './api-key-verifier.js';
export { requireScopes, scopeGrants } from './api-key-scopes.js';
export type { ScopeCheck } from './api-key-scopes.js';
export { createMemoryRevocationBus } from './revocation.js';
export type { RevocationBus, RevocationEvent, RevocationListener } from './revocation.js';
export { createRevocationBus } from './revocation-redis.js';
export type { RedisRevocationBusOptions } from './revocation-redis.js';
export { createApiKeyAdmin } from './api-key-admin.js';
export type { ApiKeyAdmin, ApiKeyAdminOptions, AdminContext } from './api-key-admin.js';
export { createSigningKeyLookup } from './api-key-signing.js';
export type { SigningKeyLookup, SigningKeyLookupOptions, SigningKeyOwner } from './api-key-signing.js';
export { authenticateApiKey, presentedApiKey, resolveApiKeyAuthOptions } from './api-key-http.js';
export type { ApiKeyAuthOptions, ApiKeyAuthResult, BulwarkApiKeyIdentity } from './api-key-http.js';
// --- verification failures as problem+json errors (for adapters) ---
export { signatureFailureError, legacyHmacFailureError, webhookFailureError } from './signature-errors.js';
