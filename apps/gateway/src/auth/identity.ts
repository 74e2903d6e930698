import { requireScopes } from 'bulwark/auth';
import type { AuthType } from '../config/auth-schema.js';

/**
 * Who made a request, once authenticated. Forwarded to the upstream as `x-bulwark-key-id`,
 * `x-bulwark-tenant` and `x-bulwark-scopes`, used as the key of `by: apiKey | tenant` limits and
 * logged by key id — never by the credential itself.
 */
export interface Identity {
  /** How the request was authenticated. */
  readonly method: AuthType;
  /** API key id, signing key id, webhook route or session subject; never a secret. */
  readonly keyId: string | undefined;
  readonly tenant: string | undefined;
  readonly scopes: readonly string[];
  /** Limits of the key itself (API keys created with `limits`), enforced on top of the route's. */
  readonly limits?: readonly { readonly limit: number; readonly windowMs: number }[] | undefined;
}

/** The identity of requests on public routes. */
export const ANONYMOUS: Identity = Object.freeze({ method: 'none', keyId: undefined, tenant: undefined, scopes: Object.freeze([]) as readonly string[] });

/**
 * Whether `granted` covers every scope in `required`, by bulwark/auth's rules: a granted `*` covers
 * everything and a granted `orders:*` covers `orders:read`; nothing else is implied.
 */
export function hasScopes(granted: readonly string[], required: readonly string[]): boolean {
  return requireScopes({ scopes: granted }, required).ok;
}
