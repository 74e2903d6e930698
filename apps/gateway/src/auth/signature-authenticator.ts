import { createSignatureVerifier, type NonceStore } from 'bulwark/auth';
import type { LoggerLike } from 'bulwark/observability';
import type { Registry } from 'prom-client';
import { refuse, type AuthOutcome, type Authenticator } from './authenticator.js';
import { authProblem } from './problems.js';
import type { SigningKeyDirectory } from './signing-keys.js';

export interface SignatureAuthenticatorOptions {
  readonly directory: SigningKeyDirectory;
  readonly nonceStore: NonceStore;
  readonly toleranceSeconds: number;
  /** Only these key ids are accepted on the route. @default every key */
  readonly allowedKeyIds?: readonly string[] | undefined;
  readonly registry: Registry;
  readonly logger: LoggerLike;
}

/**
 * RFC 9421 request signatures (bulwark/auth's verifier and profile: `@method`, `@authority`,
 * `@path`, `@query` and, with a body, `content-digest` over the raw bytes; `created` within the
 * window; single-use `nonce`). The body is buffered for the digest. The identity is the key id with
 * the key's tenant and scopes; `Signature` and `Signature-Input` are not forwarded.
 */
export function createSignatureAuthenticator(options: SignatureAuthenticatorOptions): Authenticator {
  const { directory } = options;
  const allowed = options.allowedKeyIds === undefined ? undefined : new Set(options.allowedKeyIds);
  const verifier = createSignatureVerifier({
    keys: async (keyId) => (allowed !== undefined && !allowed.has(keyId) ? undefined : (await directory.lookup(keyId))?.key),
    nonceStore: options.nonceStore,
    windowSeconds: options.toleranceSeconds,
    registry: options.registry,
    logger: options.logger,
  });

  return {
    scheme: 'signature',
    consumedHeaders: ['signature', 'signature-input'],
    needsRawBody: true,
    async authenticate(exchange): Promise<AuthOutcome> {
      const request = exchange.request;
      const result = await verifier.verify({
        method: request.method ?? 'GET',
        url: request.url ?? '/',
        scheme: exchange.secure ? 'https' : 'http',
        headers: request.headers,
        ...(exchange.body === undefined ? {} : { body: exchange.body }),
      });
      if (!result.ok) return refuse(authProblem('signature', result.reason), result.reason, true);
      const entry = await directory.lookup(result.keyId);
      return { ok: true, identity: { method: 'signature', keyId: result.keyId, tenant: entry?.tenant, scopes: entry?.scopes ?? [] } };
    },
  };
}
