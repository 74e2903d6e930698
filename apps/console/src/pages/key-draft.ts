import type { FieldError } from '../api/problem.js';
import type { CreateApiKeyInput } from '../api/types.js';
import { localInputToIso, parseScopes } from '../ui/format.js';

/** The create-key form's state, and the request body it makes (checked before it is sent). */

export const WINDOWS = [
  { value: '1000', label: 'second' },
  { value: '60000', label: 'minute' },
  { value: '3600000', label: 'hour' },
  { value: '86400000', label: 'day' },
] as const;
export type WindowMs = (typeof WINDOWS)[number]['value'];

export type Signing = 'none' | 'hmac-sha256' | 'ed25519';

export interface LimitRow {
  readonly id: number;
  readonly limit: string;
  readonly windowMs: WindowMs;
}

export interface Draft {
  readonly name: string;
  readonly tenant: string;
  readonly scopes: string;
  readonly env: 'live' | 'test';
  readonly expires: string;
  readonly limits: readonly LimitRow[];
  readonly signing: Signing;
  readonly publicKey: string;
}

export const EMPTY_DRAFT: Draft = { name: '', tenant: '', scopes: '', env: 'live', expires: '', limits: [], signing: 'none', publicKey: '' };

/** The request body of a draft, or the field errors that keep it from being sent. */
export function inputOf(draft: Draft, nowMs: number): { readonly ok: true; readonly input: CreateApiKeyInput } | { readonly ok: false; readonly errors: FieldError[] } {
  const errors: FieldError[] = [];
  if (draft.name.trim() === '') errors.push({ path: 'name', message: 'Give the key a name, such as the service that uses it.' });
  if (draft.tenant.trim() === '') errors.push({ path: 'tenant', message: 'Name the tenant the key acts for.' });
  const expiresAt = localInputToIso(draft.expires);
  if (draft.expires !== '' && expiresAt === undefined) errors.push({ path: 'expiresAt', message: 'Enter a date and time.' });
  if (expiresAt !== undefined && Date.parse(expiresAt) <= nowMs) errors.push({ path: 'expiresAt', message: 'The expiry must be in the future.' });
  const limits = draft.limits.map((row, index) => {
    const limit = Number(row.limit);
    if (!Number.isInteger(limit) || limit < 1) errors.push({ path: `limits.${index}.limit`, message: 'Enter a whole number of requests, 1 or more.' });
    return { limit, windowMs: Number(row.windowMs) };
  });
  if (draft.signing === 'ed25519' && draft.publicKey.trim() === '') errors.push({ path: 'signing', message: 'Paste the Ed25519 public key (base64url or PEM).' });
  if (errors.length > 0) return { ok: false, errors };
  const scopes = parseScopes(draft.scopes);
  return {
    ok: true,
    input: {
      name: draft.name.trim(),
      tenant: draft.tenant.trim(),
      env: draft.env,
      ...(scopes.length === 0 ? {} : { scopes }),
      ...(limits.length === 0 ? {} : { limits }),
      ...(expiresAt === undefined ? {} : { expiresAt }),
      ...(draft.signing === 'none' ? {} : { signing: draft.signing === 'ed25519' ? { algorithm: 'ed25519', publicKey: draft.publicKey.trim() } : { algorithm: 'hmac-sha256' } }),
    },
  };
}
