import { expect } from 'vitest';
import { signLegacy, signRequest } from 'bulwark/auth';
import Stripe from 'stripe';
import type { ResolvedRoute } from '../../src/config/resolve.js';
import { rawRequest } from './raw-http.js';
import { send, type TestGateway, type TestResponse } from './gateway.js';

/**
 * The shared security suite: run against every route of a gateway. For each route it proves that
 * the route is authenticated unless public (no credentials → 401), that a forged credential is
 * refused (401), a key without the route's scopes is refused (403), the limits answer 429 with
 * their headers, an oversized body is 413 before a byte is read, prototype keys are 400, and that no
 * answer is ever a 500 or carries a stack. Every error is problem+json with `code` and `requestId`.
 */

const stripe = new Stripe('sk_test_unused_by_the_suite');

/** A concrete path the route matches. */
export function samplePath(route: ResolvedRoute): string {
  if (route.match.kind === 'prefix') return `${route.match.value.replace(/\/+$/, '')}/probe`;
  return route.match.value.replace(/:[^/]+/g, 'x1');
}

/** A method the route accepts, preferring one with a body when the route takes bodies. */
export function sampleMethod(route: ResolvedRoute): string {
  const methods = route.match.methods;
  if (methods === undefined) return 'GET';
  return methods.find((method) => method === 'POST') ?? methods[0] ?? 'GET';
}

/** A body the route's validation accepts. */
function sampleBody(route: ResolvedRoute): string | undefined {
  if (route.validation?.body !== undefined) {
    if (route.name === 'chat') return JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] });
    if (route.name.startsWith('orders')) return JSON.stringify({ sku: 'A-1', quantity: 2 });
  }
  return JSON.stringify({ hello: 'world' });
}

export interface Credentials {
  /** Headers of a valid request (fresh for each call: signatures are single use). */
  valid(route: ResolvedRoute, method: string, url: string, body: string | undefined): Promise<Record<string, string>>;
  /** Headers of a well-formed but forged credential. */
  forged(route: ResolvedRoute, method: string, url: string, body: string | undefined): Promise<Record<string, string>>;
  /** Headers of a valid credential without the route's scopes, when the route requires scopes. */
  unscoped(route: ResolvedRoute, method: string, url: string, body: string | undefined): Promise<Record<string, string> | undefined>;
}

/** Builds credentials for every auth type, creating keys in the gateway's key store. */
export function credentialsFor(gateway: TestGateway, secrets: { readonly stripe?: string }): Credentials {
  const keys = new Map<string, { key: string; id: string; signingSecret?: string }>();
  const keyFor = async (name: string, scopes: readonly string[], signing = false): Promise<{ key: string; id: string; signingSecret?: string }> => {
    let key = keys.get(name);
    if (key === undefined) {
      key = await gateway.createKey(scopes, { tenant: `tenant-${name}-${Math.random().toString(36).slice(2)}`, signing });
      keys.set(name, key);
    }
    return key;
  };
  const scopesOf = (route: ResolvedRoute): readonly string[] => ('scopes' in route.auth ? route.auth.scopes : []);
  const sign = (url: string, method: string, body: string | undefined, keyId: string, secret: string | Buffer): Record<string, string> => {
    const headers = signRequest({ method, url, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body ?? null }, { keyId, algorithm: 'hmac-sha256', key: secret });
    return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  };
  const stripeHeader = (body: string | undefined, secret: string): Record<string, string> => ({
    'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body ?? '', secret, timestamp: Math.floor(Date.now() / 1000) }),
  });

  return {
    async valid(route, method, url, body) {
      switch (route.auth.type) {
        case 'apiKey':
          return { [route.auth.header]: (await keyFor(`route-${route.name}`, scopesOf(route))).key };
        case 'signature': {
          const key = await keyFor(`signer-${route.name}`, scopesOf(route), true);
          return sign(url, method, body, key.id, key.signingSecret ?? '');
        }
        case 'webhook':
          return stripeHeader(body, secrets.stripe ?? '');
        case 'legacyHmac':
          return signLegacy({ method, path: new URL(url).pathname + new URL(url).search, secret: route.auth.secrets[0] ?? '' });
        default:
          return {};
      }
    },
    async forged(route, method, url, body) {
      switch (route.auth.type) {
        case 'apiKey': {
          // A real key of another gateway's format with a valid checksum is still unknown here.
          const other = await keyFor('forged-source', []);
          return { [route.auth.header]: `${other.key.slice(0, 12)}${'A'.repeat(other.key.length - 18)}${other.key.slice(-6)}` };
        }
        case 'signature': {
          const key = await keyFor(`signer-${route.name}`, scopesOf(route), true);
          return sign(url, method, body, key.id, Buffer.alloc(32, 7));
        }
        case 'webhook':
          return stripeHeader(body, 'whsec_forged_forged_forged_forged_forged');
        case 'legacyHmac':
          return signLegacy({ method, path: new URL(url).pathname, secret: 'f'.repeat(40) });
        default:
          return {};
      }
    },
    async unscoped(route, method, url, body) {
      if (scopesOf(route).length === 0) return undefined;
      if (route.auth.type === 'apiKey') return { [route.auth.header]: (await keyFor('no-scopes', ['unrelated:scope'])).key };
      if (route.auth.type === 'signature') {
        const key = await keyFor('signer-no-scopes', ['unrelated:scope'], true);
        return sign(url, method, body, key.id, key.signingSecret ?? '');
      }
      return undefined;
    },
  };
}

/** The checks every response passes: never a 500, never a stack, problems complete. */
export function assertSafe(response: TestResponse, context: string): void {
  expect(response.status, `${context}: ${response.text.slice(0, 300)}`).not.toBe(500);
  expect(response.text, context).not.toMatch(/\n\s+at .+\(|node_modules|\.ts:\d+/);
  if (response.status >= 400 && response.headers['x-upstream'] === undefined) {
    expect(response.headers['content-type'], context).toMatch(/^application\/problem\+json/);
    const problem = response.json<{ code?: unknown; requestId?: unknown; status?: unknown }>();
    expect(typeof problem.code, context).toBe('string');
    expect(problem.requestId, context).toBe(response.headers['x-request-id']);
    expect(problem.status, context).toBe(response.status);
  }
}

/** Runs the whole suite on one route. */
export async function runRouteSuite(gateway: TestGateway, route: ResolvedRoute, credentials: Credentials, extraHeaders: Record<string, string> = {}): Promise<void> {
  const method = sampleMethod(route);
  const path = samplePath(route);
  const url = `${gateway.url}${path}`;
  const takesBody = method !== 'GET' && method !== 'HEAD';
  const body = takesBody ? sampleBody(route) : undefined;
  const jsonHeaders: Record<string, string> = takesBody ? { 'content-type': 'application/json' } : {};
  const call = async (headers: Record<string, string>, overrides: { readonly path?: string; readonly body?: string } = {}): Promise<TestResponse> => {
    const response = await send(`${gateway.url}${overrides.path ?? path}`, { method, headers: { ...extraHeaders, ...jsonHeaders, ...headers }, ...(takesBody ? { body: overrides.body ?? body ?? '' } : {}) });
    assertSafe(response, `${route.name} ${method} ${overrides.path ?? path}`);
    return response;
  };

  // An authorised request reaches the upstream.
  const ok = await call(await credentials.valid(route, method, url, body));
  expect(ok.status, `${route.name}: authorised request: ${ok.text.slice(0, 300)}`).toBe(200);
  expect(ok.headers['x-upstream']).toBe('yes');

  // Authentication is required unless the route is public.
  const anonymous = await call({});
  if (route.public) expect(anonymous.status, `${route.name} is public`).toBe(200);
  else expect(anonymous.status, `${route.name} without credentials`).toBe(401);

  if (!route.public) {
    const forged = await call(await credentials.forged(route, method, url, body));
    expect(forged.status, `${route.name}: forged credential ${forged.text}`).toBe(401);
    const unscoped = await credentials.unscoped(route, method, url, body);
    if (unscoped !== undefined) {
      const refused = await call(unscoped);
      expect(refused.status, `${route.name}: missing scope ${refused.text}`).toBe(403);
      expect(refused.json().code).toBe('INSUFFICIENT_SCOPE');
    }
  }

  // Prototype keys: in the query for every route, in a JSON body where the route parses JSON.
  const pollutedQuery = await call({}, { path: `${path}?__proto__[polluted]=1` });
  expect(pollutedQuery.status, `${route.name}: prototype key in the query`).toBe(400);
  expect(pollutedQuery.json().code).toBe('FORBIDDEN_KEY');
  if (takesBody && route.safeJson) {
    const pollutedBody = await call({}, { body: '{"a":{"__proto__":{"polluted":true}}}' });
    expect(pollutedBody.status, `${route.name}: prototype key in the body`).toBe(400);
    expect(pollutedBody.json().code).toBe('FORBIDDEN_KEY');
  }

  // An oversized body is refused from its declared length, before any byte or credential is read.
  const oversized = await rawRequest(
    Number(new URL(gateway.url).port),
    `${method === 'GET' ? 'POST' : method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${route.bodyLimit + 1}\r\n${Object.entries(extraHeaders).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`,
    '{"a":',
  );
  if (method !== 'GET' || route.match.methods === undefined) {
    expect(oversized.status, `${route.name}: oversized body`).toBe(413);
    expect(oversized.response).toMatch(/"code":"PAYLOAD_TOO_LARGE"/);
  }

  // The tightest limit answers 429 once exhausted, with Retry-After and the IETF fields (every
  // limit of the route in RateLimit-Policy).
  const tightest = [...route.rateLimits].sort((a, b) => a.limit - b.limit)[0];
  if (tightest !== undefined) {
    let last: TestResponse | undefined;
    for (let sent = 0; sent <= tightest.limit + 1; sent += 1) {
      // Webhook deliveries are single use (replay cache): each one is a new message.
      const delivery = route.auth.type === 'webhook' ? JSON.stringify({ id: `evt_${sent}`, type: 'test' }) : body;
      last = await call(await credentials.valid(route, method, url, delivery), delivery === undefined ? {} : { body: delivery });
      if (last.status === 429) break;
    }
    expect(last?.status, `${route.name}: limit ${tightest.name} (${tightest.limit})`).toBe(429);
    expect(last?.headers['retry-after']).toMatch(/^\d+$/);
    for (const limit of route.rateLimits) expect(last?.headers['ratelimit-policy']).toContain(`"${limit.name}"`);
    expect(last?.headers.ratelimit).toMatch(new RegExp(`"${tightest.name}";r=0`));
    expect(last?.json().code).toBe('RATE_LIMITED');
  }
}
