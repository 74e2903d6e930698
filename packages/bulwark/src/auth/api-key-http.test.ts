import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../observability/metrics-registry.js';
import { authenticateApiKey, presentedApiKey, resolveApiKeyAuthOptions } from './api-key-http.js';
import { createApiKeyVerifier } from './api-key-verifier.js';
import { createMemoryKeyStore } from './key-store-memory.js';

const pepper = randomBytes(32);
const store = createMemoryKeyStore({ pepper });
const verifier = createApiKeyVerifier({ store, pepper, registry: createMetricsRegistry({ defaultMetrics: false }) });
const options = resolveApiKeyAuthOptions({ verifier }, 'test');

describe('presentedApiKey', () => {
  it('reads the configured header, else a Bearer token', () => {
    expect(presentedApiKey({ 'x-api-key': 'bw_a' }, options)).toBe('bw_a');
    expect(presentedApiKey({ authorization: 'Bearer bw_b' }, options)).toBe('bw_b');
    expect(presentedApiKey({ authorization: 'bearer   bw_c  ' }, options)).toBe('bw_c');
    expect(presentedApiKey({ 'x-api-key': 'bw_a', authorization: 'Bearer bw_b' }, options)).toBe('bw_a');
  });

  it('treats other schemes as no key, and hostile Bearer values as a (malformed) key', () => {
    expect(presentedApiKey({ authorization: 'Basic dXNlcjpwYXNz' }, options)).toBeUndefined();
    expect(presentedApiKey({}, options)).toBeUndefined();
    expect(presentedApiKey({ authorization: 'Bearer bw_ѡ' }, options)).toBe('Bearer bw_ѡ');
    expect(presentedApiKey({ authorization: 'Bearer a b' }, options)).toBe('Bearer a b');
    expect(presentedApiKey({ 'x-api-key': ['bw_1', 'bw_2'] }, options)).toEqual(['bw_1', 'bw_2']);
    expect(presentedApiKey({ authorization: 'Bearer bw_b' }, resolveApiKeyAuthOptions({ verifier, bearer: false }, 'test'))).toBeUndefined();
  });
});

describe('authenticateApiKey', () => {
  it('returns the identity of a valid key with the required scopes', async () => {
    const { key, record } = await store.create({ name: 'ci', tenant: 'acme', scopes: ['deploy:*'], limits: [{ limit: 5, windowMs: 1000 }] });
    const result = await authenticateApiKey({ 'x-api-key': key }, resolveApiKeyAuthOptions({ verifier, scopes: ['deploy:prod'] }, 'test'));
    expect(result).toEqual({ ok: true, identity: { keyId: record.id, tenant: 'acme', scopes: ['deploy:*'], env: 'live', name: 'ci', limits: [{ limit: 5, windowMs: 1000 }] } });
  });

  it('maps each failure to its code, with a Bearer challenge on 401', async () => {
    const missing = await authenticateApiKey({}, options);
    expect(!missing.ok && [missing.error.code, missing.error.status, missing.error.headers['www-authenticate']]).toEqual(['API_KEY_MISSING', 401, 'Bearer realm="api"']);
    const malformed = await authenticateApiKey({ 'x-api-key': 'bw_live_nope' }, options);
    expect(!malformed.ok && [malformed.error.code, malformed.error.headers['www-authenticate']]).toEqual(['API_KEY_MALFORMED', 'Bearer realm="api", error="invalid_token"']);
    const { key } = await store.create({ name: 'narrow', tenant: 'acme', scopes: ['read'] });
    const scoped = await authenticateApiKey({ 'x-api-key': key }, resolveApiKeyAuthOptions({ verifier, scopes: ['read', 'write'] }, 'test'));
    expect(!scoped.ok && [scoped.error.code, scoped.error.status, scoped.error.extensions]).toEqual(['INSUFFICIENT_SCOPE', 403, { requiredScopes: ['write'] }]);
  });

  it('answers 503 when the store cannot be reached', async () => {
    const broken = resolveApiKeyAuthOptions({ verifier: { verify: async () => Promise.reject(new Error('ECONNREFUSED 10.0.0.5:5432')) } }, 'test');
    const result = await authenticateApiKey({ 'x-api-key': 'bw_x' }, broken);
    expect(!result.ok && [result.error.code, result.error.status, result.error.headers['retry-after']]).toEqual(['DEPENDENCY_UNAVAILABLE', 503, '1']);
    expect(!result.ok && result.error.detail).not.toContain('10.0.0.5');
  });

  it('validates its options', () => {
    expect(() => resolveApiKeyAuthOptions({ verifier: {} as typeof verifier }, 'apiKeyAuth')).toThrow(/verifier/);
    expect(() => resolveApiKeyAuthOptions({ verifier, header: 'authorization' }, 'apiKeyAuth')).toThrow(/header/);
    expect(() => resolveApiKeyAuthOptions({ verifier, header: 'x api key' }, 'apiKeyAuth')).toThrow(/header/);
    expect(() => resolveApiKeyAuthOptions({ verifier, realm: 'a"b' }, 'apiKeyAuth')).toThrow(/realm/);
    expect(() => resolveApiKeyAuthOptions({ verifier, scopes: [''] }, 'apiKeyAuth')).toThrow(/scopes/);
  });
});
