import { createHmac, verify as verifyAsymmetric } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { Dictionary } from 'structured-headers';
import { silentLogger, type LoggerLike } from '../observability/logger-like.js';
import { checkContentDigest, digestOf, readSingleContentDigest } from './content-digest.js';
import type { NonceStore } from './replay-store.js';
import { safeEqual } from './safe-equal.js';
import { buildSignatureBase, DERIVED_COMPONENTS } from './signature-base.js';
import { combinedHeader } from './signature-headers.js';
import { parseSignatureDictionary, parseSignatureValues, readSignatureInput, type SignatureInput } from './signature-input.js';
import { prepareSignatureKey } from './signature-key.js';
import { authMetrics } from './signature-metrics.js';
import { booleanOption, integerOption } from './signature-options.js';
import { signatureTarget } from './signature-target.js';
import type { SignatureFailureReason, SignatureKey, SignatureKeyLookup, SignatureRequest, SignatureVerification } from './signature-types.js';

export interface SignatureVerifierOptions {
  /** Finds the key of a `keyid`; may be async. A rejection fails the request with `unavailable`. */
  readonly keys: SignatureKeyLookup;
  /**
   * Remembers nonces for their window, so that each is accepted once. Required unless `requireNonce`
   * is `false` (then nonces are checked when present and a store is given, ignored otherwise).
   */
  readonly nonceStore?: NonceStore;
  /** How far `created` may lie in the past or the future, in seconds (1…3600). @default 60 */
  readonly windowSeconds?: number;
  /** Components every signature must cover. @default ['@method', '@authority', '@path', '@query'] */
  readonly requiredComponents?: readonly string[];
  /** Require `content-digest` to be covered whenever the request has a body. @default true */
  readonly requireContentDigest?: boolean;
  /** Require the `nonce` parameter. @default true */
  readonly requireNonce?: boolean;
  /** Check only the signature with this label; @default undefined (the first that meets the profile) */
  readonly label?: string;
  /** Consider only signatures whose `tag` parameter is this value (RFC 9421 §2.3). @default undefined (any) */
  readonly tag?: string;
  /** Longest `Signature-Input` or `Signature` accepted, in bytes; longer is `malformed`, unparsed. @default 8192 */
  readonly maxHeaderBytes?: number;
  /** Most signatures (labels) a request may carry. @default 5 */
  readonly maxSignatures?: number;
  /** Clock in milliseconds since the epoch, for tests. @default Date.now */
  readonly now?: () => number;
  /** Registry for `auth_failures_total` and `auth_verification_duration_seconds`. @default defaultMetricsRegistry() */
  readonly registry?: Registry;
  /** @default silentLogger */
  readonly logger?: LoggerLike;
}

/** Verifies the RFC 9421 signature of a request. */
export interface SignatureVerifier {
  /** Never throws and never rejects: every failure is a `{ ok: false, reason }` value. */
  verify(request: SignatureRequest): Promise<SignatureVerification>;
}

const DEFAULT_REQUIRED_COMPONENTS = Object.freeze(['@method', '@authority', '@path', '@query']);
const FIELD_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const EMPTY = Buffer.alloc(0);
const HMAC_SHA256_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;

/** The failure results, frozen once: a refusal allocates nothing. */
const FAILURES = Object.fromEntries(
  (['missing', 'malformed', 'unknown_key', 'bad_signature', 'expired', 'future', 'replayed', 'digest_mismatch', 'component_missing', 'alg_mismatch', 'unavailable'] as const).map(
    (reason) => [reason, Object.freeze({ ok: false as const, reason })],
  ),
) as { readonly [R in SignatureFailureReason]: { readonly ok: false; readonly reason: R } };

/**
 * Creates a verifier of HTTP message signatures (RFC 9421) under Bulwark's profile:
 *
 * - the signature must cover `@method`, `@authority`, `@path`, `@query` and — when there is a body —
 *   `content-digest`, which is recomputed from the raw bytes (RFC 9530, sha-256/sha-512);
 * - `created` and `keyid` are required, `created` within ±`windowSeconds`; `expires` is honoured;
 * - the algorithm is pinned per key (`alg_mismatch` otherwise); `hmac-sha256` and `ed25519`;
 * - the `nonce` is single use, and checked only after the signature verified, so nobody without the
 *   key can burn nonces.
 *
 * Headers are parsed with `structured-headers`; headers above `maxHeaderBytes` are refused first.
 *
 * @throws TypeError on invalid options (naming the option and its allowed range).
 * @see https://www.rfc-editor.org/rfc/rfc9421
 * @example
 * const verifier = createSignatureVerifier({
 *   keys: (keyId) => keys.get(keyId),
 *   nonceStore: createRedisReplayStore({ client: redis }),
 * });
 * const result = await verifier.verify({ method: req.method, url: req.originalUrl, headers: req.headers, body: rawBody });
 * if (!result.ok) return reply401(result.reason);
 */
export function createSignatureVerifier(options: SignatureVerifierOptions): SignatureVerifier {
  const settings = validateOptions(options);
  const { keys, nonceStore, windowSeconds, requiredComponents, requireContentDigest, requireNonce, label, tag, maxHeaderBytes, maxSignatures, now, logger } = settings;
  const metrics = authMetrics('signature', options.registry);

  /** The first signature of the request that meets the profile, or why none does. */
  function chooseSignature(inputs: Dictionary, signatures: ReadonlyMap<string, Buffer | null>, hasBody: boolean): { input: SignatureInput; signature: Buffer } | SignatureFailureReason {
    let firstFailure: SignatureFailureReason | undefined;
    const labels = label === undefined ? inputs.keys() : [label];
    for (const candidate of labels) {
      const member = inputs.get(candidate);
      if (member === undefined) continue;
      const input = readSignatureInput(candidate, member);
      if (input === undefined) {
        firstFailure ??= 'malformed';
        continue;
      }
      if (tag !== undefined && input.tag !== tag) continue;
      const profileFailure = profileFailureOf(input, hasBody);
      if (profileFailure !== undefined) {
        firstFailure ??= profileFailure;
        continue;
      }
      const signature = signatures.get(candidate);
      if (signature === undefined || signature === null) {
        firstFailure ??= 'malformed';
        continue;
      }
      return { input, signature };
    }
    return firstFailure ?? 'missing';
  }

  function profileFailureOf(input: SignatureInput, hasBody: boolean): SignatureFailureReason | undefined {
    if (input.created === undefined || input.keyid === undefined) return 'component_missing';
    if (requireNonce && input.nonce === undefined) return 'component_missing';
    for (const required of requiredComponents) {
      if (!input.components.some((component) => component.name === required)) return 'component_missing';
    }
    if (requireContentDigest && hasBody && !input.components.some(coversCheckedDigest)) return 'component_missing';
    return undefined;
  }

  async function verifyUnchecked(request: SignatureRequest): Promise<SignatureVerification> {
    if (request === null || typeof request !== 'object') return FAILURES.malformed;
    const headers = request.headers;
    const inputHeader = combinedHeader(headers, 'signature-input');
    const signatureHeader = combinedHeader(headers, 'signature');
    if ((inputHeader === undefined || inputHeader === '') && (signatureHeader === undefined || signatureHeader === '')) return FAILURES.missing;
    if (inputHeader === undefined || signatureHeader === undefined) return FAILURES.malformed;
    // Refuse oversized headers before parsing them: the parser's work grows with their length.
    if (inputHeader.length > maxHeaderBytes || signatureHeader.length > maxHeaderBytes) return FAILURES.malformed;
    const inputs = parseSignatureDictionary(inputHeader);
    const signatures = parseSignatureValues(signatureHeader);
    if (inputs === undefined || signatures === undefined) return FAILURES.malformed;
    if (inputs.size > maxSignatures || signatures.size > maxSignatures) return FAILURES.malformed;

    const body = request.body;
    if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) return FAILURES.malformed;
    const hasBody = body !== undefined && (typeof body === 'string' ? body.length > 0 : body.byteLength > 0);
    const target = signatureTarget(request);
    if (target === undefined) return FAILURES.malformed;

    const chosen = chooseSignature(inputs, signatures, hasBody);
    if (typeof chosen === 'string') return FAILURES[chosen];
    const { input, signature } = chosen;
    const created = input.created as number;
    const keyId = input.keyid as string;

    // Time first: it is free, and an expired signature needs no key lookup.
    const nowMs = now();
    const nowSeconds = Math.floor(nowMs / 1000);
    if (created - nowSeconds > windowSeconds) return FAILURES.future;
    if (nowSeconds - created > windowSeconds) return FAILURES.expired;
    if (input.expires !== undefined && nowSeconds > input.expires) return FAILURES.expired;

    let key: SignatureKey | undefined;
    try {
      const found = keys(keyId);
      key = found instanceof Promise ? await found : found;
    } catch (error) {
      logger.error({ err: error, keyId }, 'signature key lookup failed; refusing the request');
      return FAILURES.unavailable;
    }
    if (key === undefined || key === null || typeof key !== 'object' || key.keyId !== keyId) return FAILURES.unknown_key;
    if (input.alg !== undefined && input.alg !== key.algorithm) return FAILURES.alg_mismatch;
    const prepared = prepareSignatureKey(key);
    if (prepared === undefined) return FAILURES.alg_mismatch;

    const base = buildSignatureBase(input.components, input.signatureParams, target, headers);
    if (typeof base !== 'string') return FAILURES[base.failure];
    // The digest is checked when covered (against an empty body if none was captured: fail closed)
    // and whenever a body arrived with one, covered or not.
    const digestHeader = combinedHeader(headers, 'content-digest');
    const checksDigest = digestHeader !== undefined && (hasBody || input.components.some((component) => component.name === 'content-digest'));
    let digestChecked = false;
    if (prepared.algorithm === 'hmac-sha256') {
      if (signature.byteLength !== HMAC_SHA256_BYTES) return FAILURES.bad_signature;
      // The base is ASCII (buildSignatureBase refuses anything else), so hashing the string is exact.
      const expected = createHmac('sha256', prepared.key).update(base).digest();
      const digest = checksDigest ? readSingleContentDigest(digestHeader) : undefined;
      if (digest !== undefined) {
        // MAC and digest compared in one safeEqual (each call hashes its inputs, so one is half the
        // cost); which of the two differed is worked out only on failure.
        const actual = digestOf(body ?? EMPTY, digest.algorithm);
        if (!safeEqual(Buffer.concat([expected, actual]), Buffer.concat([signature, digest.claimed]))) {
          return safeEqual(expected, signature) ? FAILURES.digest_mismatch : FAILURES.bad_signature;
        }
        digestChecked = true;
      } else if (!safeEqual(expected, signature)) {
        return FAILURES.bad_signature;
      }
    } else {
      if (signature.byteLength !== ED25519_SIGNATURE_BYTES) return FAILURES.bad_signature;
      if (!verifyAsymmetric(null, Buffer.from(base, 'latin1'), prepared.key, signature)) return FAILURES.bad_signature;
    }
    if (checksDigest && !digestChecked) {
      const check = checkContentDigest(digestHeader, body ?? EMPTY);
      if (check === 'malformed') return FAILURES.malformed;
      if (check !== 'match') return FAILURES.digest_mismatch;
    }

    // Only now, with the signature proven, may the nonce be spent.
    if (input.nonce !== undefined && nonceStore !== undefined) {
      // Remember it while the signature is acceptable, plus one window for clocks that disagree.
      const ttlMs = Math.max(1000, (created + windowSeconds + 1) * 1000 - nowMs) + windowSeconds * 1000;
      let fresh: boolean;
      try {
        fresh = await nonceStore.checkAndStore(`sig:${keyId}`, input.nonce, ttlMs);
      } catch (error) {
        logger.error({ err: error, keyId }, 'nonce store unavailable; refusing the request');
        return FAILURES.unavailable;
      }
      if (!fresh) return FAILURES.replayed;
    }
    const verified = { ok: true as const, keyId, label: input.label, created, algorithm: prepared.algorithm };
    return input.nonce === undefined ? verified : { ...verified, nonce: input.nonce };
  }

  return {
    async verify(request) {
      const startedAt = performance.now();
      let result: SignatureVerification;
      try {
        result = await verifyUnchecked(request);
      } catch (error) {
        // Unreachable by design (every step returns a value); if a bug throws, refuse, never 500.
        logger.error({ err: error }, 'signature verification failed unexpectedly; refusing the request');
        result = FAILURES.malformed;
      }
      metrics.observe(startedAt, result.ok ? undefined : result.reason);
      if (!result.ok) logger.debug({ reason: result.reason }, 'request signature refused');
      return result;
    },
  };
}

/**
 * Whether a component protects the body: `content-digest` as a whole field, or through the member of
 * an algorithm the verifier checks (`;key="sha-256"`). `;key="md5"` signs a member that is never
 * compared with the body, leaving the checked members unsigned: it does not count.
 */
function coversCheckedDigest(component: SignatureInput['components'][number]): boolean {
  if (component.name !== 'content-digest') return false;
  const key = component.parameters.get('key');
  return key === undefined || key === 'sha-256' || key === 'sha-512';
}

function validateOptions(options: SignatureVerifierOptions) {
  if (options === null || typeof options !== 'object') throw new TypeError('createSignatureVerifier needs an options object');
  if (typeof options.keys !== 'function') throw new TypeError('keys must be a function (keyId) => SignatureKey | undefined');
  const requireNonce = booleanOption(options.requireNonce, 'requireNonce', true);
  const nonceStore = options.nonceStore;
  if (nonceStore !== undefined && (nonceStore === null || typeof nonceStore.checkAndStore !== 'function')) {
    throw new TypeError('nonceStore must be a ReplayStore (createMemoryReplayStore or createRedisReplayStore)');
  }
  if (requireNonce && nonceStore === undefined) {
    throw new TypeError('nonceStore is required while requireNonce is true (pass createRedisReplayStore(...), or set requireNonce: false)');
  }
  const windowSeconds = integerOption(options.windowSeconds, 'windowSeconds', 60, 1, 3600);
  const requiredComponents = options.requiredComponents ?? DEFAULT_REQUIRED_COMPONENTS;
  if (!Array.isArray(requiredComponents)) throw new TypeError('requiredComponents must be an array of component names');
  for (const component of requiredComponents as unknown[]) {
    if (typeof component !== 'string' || !(DERIVED_COMPONENTS.has(component) || FIELD_NAME.test(component))) {
      throw new TypeError(`requiredComponents: ${String(component)} is not a supported derived component (${[...DERIVED_COMPONENTS].join(', ')}) or a lower-case header name`);
    }
  }
  for (const [name, value] of [['label', options.label], ['tag', options.tag]] as const) {
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) throw new TypeError(`${name} must be a non-empty string`);
  }
  if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('now must be a function returning milliseconds');
  return {
    keys: options.keys,
    nonceStore,
    windowSeconds,
    requiredComponents: [...requiredComponents],
    requireContentDigest: booleanOption(options.requireContentDigest, 'requireContentDigest', true),
    requireNonce,
    label: options.label,
    tag: options.tag,
    maxHeaderBytes: integerOption(options.maxHeaderBytes, 'maxHeaderBytes', 8192, 256, 1_048_576),
    maxSignatures: integerOption(options.maxSignatures, 'maxSignatures', 5, 1, 64),
    now: options.now ?? Date.now,
    logger: options.logger ?? silentLogger,
  };
}
