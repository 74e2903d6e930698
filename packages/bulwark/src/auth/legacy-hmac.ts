import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { Registry } from 'prom-client';
import { silentLogger, type LoggerLike } from '../observability/logger-like.js';
import { sharedSecretBytes } from './legacy-hmac-secret.js';
import type { ReplayStore } from './replay-store.js';
import { safeEqual } from './safe-equal.js';
import { singleHeader, type HeaderBag } from './signature-headers.js';
import { authMetrics } from './signature-metrics.js';
import { booleanOption, integerOption } from './signature-options.js';
import type { VerificationFailure } from './signature-types.js';

/**
 * The shared-secret scheme of many internal APIs, kept as a legacy mode with the protections it
 * usually lacks: `X-Signature` is the hex HMAC-SHA256 of `METHOD:path:timestamp` under a shared
 * secret, `X-Timestamp` the time in seconds. Bulwark checks the timestamp strictly (±60 s, both
 * directions), compares length-safely, and remembers each signature for its window so it cannot be
 * replayed. It does not cover the body: prefer RFC 9421 signatures for anything new.
 */

/** Why a legacy HMAC request was refused (same meanings as the RFC 9421 verifier's reasons). */
export type LegacyHmacFailureReason = 'missing' | 'malformed' | 'bad_signature' | 'expired' | 'future' | 'replayed' | 'unavailable';

export type LegacyHmacVerification = { readonly ok: true; readonly keyId: string; readonly timestamp: number } | VerificationFailure<LegacyHmacFailureReason>;

export interface LegacyHmacRequest {
  readonly method: string;
  /** The request target as received: `/orders?id=1` (origin-form). */
  readonly url: string;
  readonly headers: HeaderBag;
}

export interface LegacyHmacVerifierOptions {
  /** The shared secret, or several during a rotation (each ≥ 32 bytes, no placeholder). */
  readonly secret: string | Uint8Array | readonly (string | Uint8Array)[];
  /** Remembers each accepted signature for its window. */
  readonly replayStore: ReplayStore;
  /** Allowed distance of `X-Timestamp` from now, in seconds, both directions (1…600). @default 60 */
  readonly windowSeconds?: number;
  /** Sign the query string as part of `path` (`/orders?id=1`); `false` signs `/orders` only. @default true */
  readonly includeQuery?: boolean;
  /** @default 'x-timestamp' */
  readonly timestampHeader?: string;
  /** @default 'x-signature' */
  readonly signatureHeader?: string;
  /** The id reported on success (logs, rate limits by client). @default 'legacy' */
  readonly clientId?: string;
  /** Clock in milliseconds, for tests. @default Date.now */
  readonly now?: () => number;
  /** @default defaultMetricsRegistry() */
  readonly registry?: Registry;
  /** @default silentLogger */
  readonly logger?: LoggerLike;
}

export interface LegacyHmacVerifier {
  /** Never throws and never rejects. */
  verify(request: LegacyHmacRequest): Promise<LegacyHmacVerification>;
}

/** Seconds as a canonical decimal integer: no sign, exponent, fraction or padding; at most 13 digits. */
const STRICT_TIMESTAMP = /^(?:0|[1-9][0-9]{0,12})$/;
const HEX = /^[0-9a-fA-F]{1,256}$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

const FAILURES = Object.fromEntries(
  (['missing', 'malformed', 'bad_signature', 'expired', 'future', 'replayed', 'unavailable'] as const).map((reason) => [reason, Object.freeze({ ok: false as const, reason })]),
) as { readonly [R in LegacyHmacFailureReason]: { readonly ok: false; readonly reason: R } };

/**
 * Creates a verifier of the legacy shared-secret HMAC. The secret is validated here, once.
 *
 * @throws TypeError when a secret is shorter than 32 bytes or a placeholder, or an option is out of range.
 * @example
 * const legacy = createLegacyHmacVerifier({ secret: process.env.LEGACY_HMAC_SECRET!, replayStore });
 * const result = await legacy.verify({ method: req.method, url: req.originalUrl, headers: req.headers });
 */
export function createLegacyHmacVerifier(options: LegacyHmacVerifierOptions): LegacyHmacVerifier {
  if (options === null || typeof options !== 'object') throw new TypeError('createLegacyHmacVerifier needs an options object');
  const secrets = Array.isArray(options.secret) ? (options.secret as readonly unknown[]) : [options.secret];
  if (secrets.length === 0 || secrets.length > 5) throw new TypeError('secret must be one secret or a list of 1 to 5 secrets');
  const keys: KeyObject[] = secrets.map((secret, index) => createSecretKey(sharedSecretBytes(secret, secrets.length === 1 ? 'secret' : `secret[${index}]`)));
  const replayStore = options.replayStore;
  if (replayStore === undefined || replayStore === null || typeof replayStore.checkAndStore !== 'function') {
    throw new TypeError('replayStore must be a ReplayStore (createMemoryReplayStore or createRedisReplayStore)');
  }
  const windowSeconds = integerOption(options.windowSeconds, 'windowSeconds', 60, 1, 600);
  const includeQuery = booleanOption(options.includeQuery, 'includeQuery', true);
  const timestampHeader = headerNameOption(options.timestampHeader, 'timestampHeader', 'x-timestamp');
  const signatureHeader = headerNameOption(options.signatureHeader, 'signatureHeader', 'x-signature');
  const clientId = options.clientId ?? 'legacy';
  if (typeof clientId !== 'string' || clientId.length === 0) throw new TypeError('clientId must be a non-empty string');
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const metrics = authMetrics('legacy_hmac', options.registry);

  async function verifyUnchecked(request: LegacyHmacRequest): Promise<LegacyHmacVerification> {
    if (request === null || typeof request !== 'object') return FAILURES.malformed;
    const timestampText = singleHeader(request.headers, timestampHeader);
    const signatureText = singleHeader(request.headers, signatureHeader);
    if (timestampText === undefined && signatureText === undefined) return FAILURES.missing;
    if (typeof timestampText !== 'string' || typeof signatureText !== 'string') return FAILURES.malformed;
    if (!STRICT_TIMESTAMP.test(timestampText) || !HEX.test(signatureText)) return FAILURES.malformed;
    if (typeof request.method !== 'string' || typeof request.url !== 'string' || !request.url.startsWith('/')) return FAILURES.malformed;

    const timestamp = Number(timestampText);
    const nowMs = now();
    const nowSeconds = Math.floor(nowMs / 1000);
    if (timestamp - nowSeconds > windowSeconds) return FAILURES.future;
    if (nowSeconds - timestamp > windowSeconds) return FAILURES.expired;

    const path = includeQuery ? request.url : (request.url.split('?', 1)[0] ?? request.url);
    const message = `${request.method.toUpperCase()}:${path}:${timestampText}`;
    const presented = signatureText.toLowerCase();
    // Every secret is tried, so the time taken does not tell which one matched.
    let matched = false;
    for (const key of keys) matched = safeEqual(createHmac('sha256', key).update(message).digest('hex'), presented) || matched;
    if (!matched) return FAILURES.bad_signature;

    // Keyed on the normalised signature: upper- and lower-case hex of one signature are one use.
    const ttlMs = Math.max(1000, (timestamp + windowSeconds + 1) * 1000 - nowMs) + windowSeconds * 1000;
    try {
      if (!(await replayStore.checkAndStore(`legacy-hmac:${clientId}`, presented, ttlMs))) return FAILURES.replayed;
    } catch (error) {
      logger.error({ err: error }, 'replay store unavailable; refusing the request');
      return FAILURES.unavailable;
    }
    return { ok: true, keyId: clientId, timestamp };
  }

  return {
    async verify(request) {
      const startedAt = performance.now();
      let result: LegacyHmacVerification;
      try {
        result = await verifyUnchecked(request);
      } catch (error) {
        logger.error({ err: error }, 'legacy HMAC verification failed unexpectedly; refusing the request');
        result = FAILURES.malformed;
      }
      metrics.observe(startedAt, result.ok ? undefined : result.reason);
      return result;
    },
  };
}

export interface SignLegacyOptions {
  readonly method: string;
  /** The request target as sent: `/orders?id=1` (or `/orders` for a verifier with `includeQuery: false`). */
  readonly path: string;
  readonly secret: string | Uint8Array;
  /** Seconds since the epoch. @default now */
  readonly timestamp?: number;
}

/**
 * The `X-Timestamp` and `X-Signature` headers of the legacy scheme, for clients and tests.
 *
 * @example
 * const headers = signLegacy({ method: 'POST', path: '/orders', secret });
 * await fetch('https://api.example.com/orders', { method: 'POST', headers, body });
 */
export function signLegacy(options: SignLegacyOptions): { readonly 'X-Timestamp': string; readonly 'X-Signature': string } {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new TypeError('timestamp must be a non-negative integer number of seconds');
  const secret = typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret;
  const signature = createHmac('sha256', secret).update(`${options.method.toUpperCase()}:${options.path}:${timestamp}`).digest('hex');
  return { 'X-Timestamp': String(timestamp), 'X-Signature': signature };
}

function headerNameOption(value: string | undefined, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !HEADER_NAME.test(value.toLowerCase())) throw new TypeError(`${name} must be a header name`);
  return value.toLowerCase();
}
