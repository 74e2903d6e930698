import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFrom, send, startTestGateway, testEnv, type TestGateway } from '../support/gateway.js';
import { rawRequest } from '../support/raw-http.js';
import { assertSafe, credentialsFor, runRouteSuite } from '../support/security-suite.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/**
 * The shared security suite on every route of every example config (examples/*), over real HTTP
 * with a real upstream. The multi-instance example runs on the machine's Redis (a unique key
 * prefix); its database is embedded PGlite here (same SQL and migrations as PostgreSQL, which the
 * sql module's own suite covers).
 */

const EXAMPLES = fileURLToPath(new URL('../../../../examples/', import.meta.url));
const runId = `${process.pid}_${randomBytes(4).toString('hex')}`;
const stripeSecret = `whsec_${randomBytes(24).toString('base64')}`;

let upstream: TestUpstream;
beforeAll(async () => {
  upstream = await startUpstream();
});
afterAll(async () => {
  await upstream.close();
});

async function exampleTree(name: string): Promise<Record<string, unknown>> {
  return parseDocument(await readFile(`${EXAMPLES}${name}/bulwark.yaml`, 'utf8')).toJS() as Record<string, unknown>;
}

function exampleEnv(): Record<string, string> {
  return {
    API_URL: upstream.url,
    APP_URL: upstream.url,
    ORDERS_URL: upstream.url,
    BILLING_URL: upstream.url,
    STRIPE_WEBHOOK_SECRET: stripeSecret,
    REDIS_URL: 'redis://127.0.0.1:6379',
    DATABASE_URL: 'postgres://unused@127.0.0.1:5432/unused',
    METRICS_TOKEN: randomBytes(24).toString('base64url'),
  };
}

describe.each([
  ['single-instance', {}],
  ['tiers', {}],
  ['multi-instance', { 'x-forwarded-proto': 'https' }],
] as const)('example %s: every route passes the security suite', (name, extraHeaders) => {
  let gateway: TestGateway;

  beforeAll(async () => {
    const tree = await exampleTree(name);
    if (name === 'multi-instance') {
      // The test client stands in for the load balancer: it connects from loopback and says https.
      const server = tree.server as { trustedProxies: string[] };
      server.trustedProxies = [...server.trustedProxies, 'loopback'];
      (tree.redis as { keyPrefix: string }).keyPrefix = `bulwark-test-${runId}:`;
    }
    gateway = await startTestGateway({ config: tree, env: exampleEnv() });
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('authenticates every route that is not explicitly public, and passes every check of the suite', async () => {
    const credentials = credentialsFor(gateway, { stripe: stripeSecret });
    const config = configFrom(await exampleTree(name), testEnv(exampleEnv()));
    expect(config.routes.length).toBeGreaterThan(2);
    for (const route of gateway.running.config.routes) {
      await runRouteSuite(gateway, route, credentials, extraHeaders);
    }
  });

  it('answers an unknown path with a 404 problem, and ambiguous paths with 400', async () => {
    const unknown = await send(`${gateway.url}/definitely/not/a/route`, { headers: extraHeaders });
    assertSafe(unknown, 'unknown route');
    const first = gateway.running.config.routes[0];
    // The single-instance and tiers examples have no catch-all route.
    if (first !== undefined) expect([404, 405]).toContain(unknown.status);
    // Sent raw: an HTTP client library would normalise them before sending.
    const headers = Object.entries(extraHeaders).map(([name, value]) => `${name}: ${value}\r\n`).join('');
    for (const path of ['/v1/../admin/keys', '/v1/%2e%2e/admin', '//v1/orders', '/v1/a%2fb', '/v1/..;/admin']) {
      const { status, response } = await rawRequest(Number(new URL(gateway.url).port), `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headers}\r\n`);
      expect(status, path).toBe(400);
      expect(response).toMatch(/content-type: application\/problem\+json/i);
      expect(response).toMatch(/"code":"PATH_INVALID"/);
    }
  });
});
