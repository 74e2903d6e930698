/**
 * What a subkey is for. Every purpose derives its own key from the master key (HKDF info
 * `bulwark/v1/<purpose>`), so a key leaked or misused in one place says nothing about the others.
 *
 * To add a purpose for a Bulwark component, append it to {@link SUBKEY_PURPOSES} (never rename or
 * remove one: the derived key would change and data protected with it would become unreadable).
 * Applications derive their own keys with the `app:` prefix (`app:invoice-links`), which can never
 * collide with a Bulwark purpose.
 */
export const SUBKEY_PURPOSES = [
  'api-key-pepper',
  'session',
  'csrf',
  'encryption-at-rest',
  'lockout-key',
  'audit-chain',
  'signing-secret-encryption',
  'metrics-token',
] as const;

/** A purpose Bulwark itself uses. */
export type BuiltinSubkeyPurpose = (typeof SUBKEY_PURPOSES)[number];

/** A Bulwark purpose, or an application purpose in the `app:` namespace. */
export type SubkeyPurpose = BuiltinSubkeyPurpose | `app:${string}`;

const BUILTIN = new Set<string>(SUBKEY_PURPOSES);
const APP_PURPOSE = /^app:[a-z0-9][a-z0-9._-]{0,63}$/;

/** Whether `value` is a purpose {@link Keyring.subkey} accepts. */
export function isSubkeyPurpose(value: unknown): value is SubkeyPurpose {
  return typeof value === 'string' && (BUILTIN.has(value) || APP_PURPOSE.test(value));
}
