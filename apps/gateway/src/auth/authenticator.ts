import type { ApiError } from 'bulwark/errors';
import type { Exchange } from '../pipeline/exchange.js';
import type { Identity } from './identity.js';

/** The result of authenticating one request: an identity, or the problem to answer and a metric reason. */
export type AuthOutcome =
  | {
      readonly ok: true;
      readonly identity: Identity;
      /**
       * Undoes what authentication recorded, for a request that ends up not accepted (no 2xx
       * answer): a webhook delivery's replay entry, so that the sender's retry is not refused as a
       * replay. Never rejects.
       */
      readonly undo?: () => Promise<void>;
    }
  | {
      readonly ok: false;
      readonly error: ApiError;
      readonly reason: string;
      /** Whether the verifier already counted the refusal in `auth_failures_total` (bulwark/auth's do). */
      readonly counted: boolean;
    };

/**
 * One way of authenticating requests (`auth.type` of a route), built once per route. Verifiers come
 * from the library (`bulwark/auth`, the API-key store, the session module); this interface is the
 * seam between them and the pipeline.
 */
export interface Authenticator {
  /** The `scheme` label of `auth_failures_total` (`api_key`, `signature`, `webhook_stripe`…). */
  readonly scheme: string;
  /**
   * Request headers holding the credential: consumed here, never forwarded upstream. (An
   * `Authorization` header that carried the credential is marked on the exchange instead.)
   */
  readonly consumedHeaders: readonly string[];
  /** Whether verification needs the raw body bytes (signatures with a digest, webhooks). */
  readonly needsRawBody: boolean;
  authenticate(exchange: Exchange): AuthOutcome | Promise<AuthOutcome>;
}

/** Builds a failed outcome; `counted` when the library verifier already recorded it. */
export function refuse(error: ApiError, reason: string, counted = false): AuthOutcome {
  return { ok: false, error, reason, counted };
}
