import type { Dispatcher } from 'undici';
import { hit, type Outcome } from './traffic.js';

/**
 * The admin API as an operator's script uses it: `x-api-key` with an admin-scoped key, JSON in and
 * out. Each call returns the outcome (status and body) so tests can assert on refusals too.
 */
export interface AdminClient {
  createKey(input: { readonly name: string; readonly tenant: string; readonly scopes: readonly string[]; readonly signing?: { readonly algorithm: 'hmac-sha256' } }): Promise<Outcome & { readonly created?: CreatedKey }>;
  revoke(id: string): Promise<Outcome>;
  verifyAudit(): Promise<Outcome & { readonly verified?: { readonly ok: boolean; readonly count?: number } }>;
  breakers(): Promise<Outcome>;
}

export interface CreatedKey {
  readonly key: string;
  readonly id: string;
  readonly signingSecret: string | undefined;
}

export function adminClient(dispatcher: Dispatcher, baseUrl: string, adminKey: string, extraHeaders: Readonly<Record<string, string>> = {}): AdminClient {
  const headers = { ...extraHeaders, 'x-api-key': adminKey, 'content-type': 'application/json' };
  const bare = { ...extraHeaders, 'x-api-key': adminKey };
  return {
    async createKey(input) {
      const outcome = await hit(dispatcher, { url: `${baseUrl}/admin/keys`, method: 'POST', headers, body: JSON.stringify({ ...input, env: 'test' }), tag: 'admin' });
      if (outcome.status !== 201) return outcome;
      const body = JSON.parse(outcome.text) as { key: string; signingSecret?: string; record: { id: string } };
      return { ...outcome, created: { key: body.key, id: body.record.id, signingSecret: body.signingSecret } };
    },
    revoke: (id) => hit(dispatcher, { url: `${baseUrl}/admin/keys/${encodeURIComponent(id)}/revoke`, method: 'POST', headers: bare, tag: 'admin' }),
    async verifyAudit() {
      const outcome = await hit(dispatcher, { url: `${baseUrl}/admin/audit/verify`, method: 'POST', headers: bare, tag: 'admin' });
      if (outcome.status !== 200) return outcome;
      return { ...outcome, verified: JSON.parse(outcome.text) as { ok: boolean; count?: number } };
    },
    breakers: () => hit(dispatcher, { url: `${baseUrl}/admin/breakers`, headers: bare, tag: 'admin' }),
  };
}
