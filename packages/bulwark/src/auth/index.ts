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
