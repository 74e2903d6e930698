/**
 * Scope checks for API keys. A granted scope matches a required one when they are equal, when the
 * granted scope is `*`, or when it ends in `:*` and the required scope starts with what precedes
 * the `*` (`billing:*` grants `billing:read` and `billing:invoices:write`, never `billing` itself).
 */

/** Whether `granted` covers `required`. */
export function scopeGrants(granted: string, required: string): boolean {
  if (granted === required || granted === '*') return true;
  return granted.endsWith(':*') && required.length > granted.length - 1 && required.startsWith(granted.slice(0, -1));
}

export type ScopeCheck = { readonly ok: true } | { readonly ok: false; readonly missing: readonly string[] };

const OK: ScopeCheck = Object.freeze({ ok: true });

/**
 * Checks that a verified key holds every required scope.
 *
 * @example
 * const check = requireScopes(result.key, ['keys:write']);
 * if (!check.ok) throw errors.insufficientScope(check.missing);
 */
export function requireScopes(key: { readonly scopes: readonly string[] }, required: readonly string[]): ScopeCheck {
  const missing = required.filter((scope) => !key.scopes.some((granted) => scopeGrants(granted, scope)));
  return missing.length === 0 ? OK : { ok: false, missing };
}
