import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requireScopes, scopeGrants } from './api-key-scopes.js';

describe('requireScopes', () => {
  it('passes when every required scope is held', () => {
    expect(requireScopes({ scopes: ['keys:read', 'keys:write'] }, ['keys:write'])).toEqual({ ok: true });
    expect(requireScopes({ scopes: [] }, [])).toEqual({ ok: true });
  });

  it('lists the scopes that are missing', () => {
    expect(requireScopes({ scopes: ['keys:read'] }, ['keys:read', 'keys:write', 'audit:read'])).toEqual({ ok: false, missing: ['keys:write', 'audit:read'] });
  });

  it('lets a prefix wildcard grant everything below it, and nothing else', () => {
    expect(scopeGrants('billing:*', 'billing:read')).toBe(true);
    expect(scopeGrants('billing:*', 'billing:invoices:write')).toBe(true);
    expect(scopeGrants('billing:*', 'billing')).toBe(false);
    expect(scopeGrants('billing:*', 'billing:')).toBe(false);
    expect(scopeGrants('billing:*', 'billingx:read')).toBe(false);
    expect(scopeGrants('*', 'anything')).toBe(true);
    expect(scopeGrants('keys:read', 'keys:*')).toBe(false);
  });

  it('never grants a scope that differs from every held scope without a wildcard (property)', () => {
    const scope = fc.stringMatching(/^[a-z:]{1,12}$/);
    fc.assert(
      fc.property(fc.array(scope, { maxLength: 5 }), scope, (held, required) => {
        const result = requireScopes({ scopes: held.filter((s) => !s.endsWith(':*')) }, [required]);
        expect(result.ok).toBe(held.includes(required));
      }),
    );
  });
});
