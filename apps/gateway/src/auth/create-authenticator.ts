import type { ApiKeyVerifier, ReplayStore } from 'bulwark/auth';
import type { LoggerLike } from 'bulwark/observability';
import type { Registry } from 'prom-client';
import type { ResolvedRoute } from '../config/resolve.js';
import { createApiKeyAuthenticator } from './api-key-authenticator.js';
import type { Authenticator } from './authenticator.js';
import { createLegacyHmacAuthenticator } from './legacy-hmac-authenticator.js';
import { createSessionAuthenticator, type SessionPort } from './session-authenticator.js';
import { createSignatureAuthenticator } from './signature-authenticator.js';
import type { SigningKeyDirectory } from './signing-keys.js';
import { createWebhookAuthenticator } from './webhook-authenticator.js';

/** The verifiers and stores authentication is built from (process-level services). */
export interface AuthServices {
  readonly apiKeys: ApiKeyVerifier;
  readonly signingKeys: SigningKeyDirectory;
  /** Nonces (RFC 9421), legacy signatures and webhook message ids. */
  readonly replayStore: ReplayStore;
  /** Session checks (bulwark/session). */
  readonly sessions?: SessionPort | undefined;
  readonly registry: Registry;
  readonly logger: LoggerLike;
}

/**
 * The authenticator of a route's `auth` block. Verifier options are validated here, once: a bad
 * secret stops start-up (or a reload) with a `TypeError` naming the route.
 */
export function createAuthenticatorFactory(services: AuthServices): (route: ResolvedRoute) => Authenticator {
  return (route) => {
    const auth = route.auth;
    try {
      switch (auth.type) {
        case 'apiKey':
          return createApiKeyAuthenticator({ verifier: services.apiKeys, header: auth.header, logger: services.logger });
        case 'signature':
          return createSignatureAuthenticator({
            directory: services.signingKeys,
            nonceStore: services.replayStore,
            toleranceSeconds: auth.toleranceSeconds,
            allowedKeyIds: auth.keys,
            registry: services.registry,
            logger: services.logger,
          });
        case 'legacyHmac':
          return createLegacyHmacAuthenticator(auth, services);
        case 'webhook':
          return createWebhookAuthenticator(route.name, auth, services);
        case 'session':
          if (services.sessions === undefined) throw new TypeError('session auth needs the session module (bulwark/session), which this gateway build does not provide');
          return createSessionAuthenticator(services.sessions, { csrf: auth.csrf });
        case 'none':
          throw new TypeError('a route with auth none must be public');
      }
    } catch (error) {
      throw new TypeError(`route ${route.name}: ${(error as Error).message}`, { cause: error });
    }
  };
}
