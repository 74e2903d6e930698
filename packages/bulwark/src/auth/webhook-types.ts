import type { HeaderBag } from './signature-headers.js';
import type { VerificationFailure } from './signature-types.js';

/** The webhook signature schemes Bulwark verifies. */
export type WebhookScheme = 'standard' | 'stripe' | 'github';

export const WEBHOOK_SCHEMES: readonly WebhookScheme[] = Object.freeze(['standard', 'stripe', 'github']);

/**
 * Why a webhook delivery was refused. `expired`/`future`: the timestamp is outside the tolerance;
 * `replayed`: the delivery (its signed message id, or the digest of what was signed) was already accepted; `unavailable`: the replay store
 * failed and the delivery is refused (the sender retries).
 */
export type WebhookFailureReason = 'missing' | 'malformed' | 'bad_signature' | 'expired' | 'future' | 'replayed' | 'unavailable';

export const WEBHOOK_FAILURE_REASONS: readonly WebhookFailureReason[] = Object.freeze(['missing', 'malformed', 'bad_signature', 'expired', 'future', 'replayed', 'unavailable']);

export interface WebhookVerified {
  readonly ok: true;
  readonly scheme: WebhookScheme;
  /** The message id (`webhook-id`, `X-GitHub-Delivery`); absent for Stripe, whose event id is in the body. */
  readonly id?: string;
  /** The signed timestamp in seconds; absent for GitHub, which signs none. */
  readonly timestamp?: number;
}

export type WebhookVerification = WebhookVerified | VerificationFailure<WebhookFailureReason>;

/** A delivery: its headers and its body exactly as received. */
export interface WebhookDelivery {
  readonly headers: HeaderBag;
  /** The raw bytes. A parsed object is a programming error (`TypeError`): re-serialised JSON never verifies. */
  readonly body: Uint8Array | string;
}

/** What a scheme reads from the headers before any cryptography. */
export interface ParsedDelivery<P> {
  /** The signed timestamp in seconds, checked against the tolerance; `undefined` when the scheme has none. */
  readonly timestamp: number | undefined;
  /** The message id reported on success, when the scheme has one. */
  readonly id: string | undefined;
  readonly parsed: P;
}

/**
 * One scheme: validates its secrets once, parses headers strictly, verifies a signature. `verify`
 * returns the replay-cache key of the delivery when a signature matches, `undefined` otherwise.
 */
export interface WebhookSchemeDefinition<K, P> {
  prepareSecrets(secrets: readonly string[]): readonly K[];
  parse(headers: HeaderBag, maxHeaderBytes: number): ParsedDelivery<P> | WebhookFailureReason;
  verify(delivery: ParsedDelivery<P>, body: Buffer, keys: readonly K[]): string | undefined;
}

/** Seconds as a canonical decimal integer, as the webhook senders write them. */
export const WEBHOOK_TIMESTAMP = /^(?:0|[1-9][0-9]{0,12})$/;
