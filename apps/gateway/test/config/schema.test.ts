import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchemaText, JSON_SCHEMA_PATH } from '../../src/config/json-schema.js';
import { validateConfigTree } from '../../src/config/load.js';

const minimal = {
  upstreams: { api: { url: 'http://127.0.0.1:3000' } },
  routes: [{ match: { prefix: '/v1' }, upstream: 'api', auth: { type: 'apiKey', scopes: ['orders:read'] } }],
};

function problemsOf(tree: unknown, env: Record<string, string> = {}): string[] {
  const result = validateConfigTree(tree, env);
  return result.ok ? [] : result.problems.map((problem) => `${problem.path}: ${problem.message}`);
}

describe('config schema', () => {
  it('the committed bulwark.schema.json is the one the zod schema generates (run `npm run -w apps/gateway schema` when this fails)', () => {
    expect(readFileSync(JSON_SCHEMA_PATH, 'utf8')).toBe(configJsonSchemaText());
  });

  it('applies the documented defaults of every scope', () => {
    const result = validateConfigTree(minimal, {});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { config } = result;
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8080, bodyLimit: 1024 * 1024, httpsRedirect: false, trustedProxies: [], exposeErrors: false });
    expect(config.upstreams.api).toMatchObject({ required: false, timeoutMs: 30_000, connections: 128, breaker: { enabled: true, failureRatePercent: 50 } });
    const route = config.routes[0];
    expect(route).toMatchObject({ name: 'v1', public: false, bodyLimit: 1024 * 1024, safeJson: true, cors: false, timeoutMs: 30_000, rateLimits: [] });
    expect(config.metrics).toMatchObject({ enabled: true, path: '/metrics' });
    expect(config.metrics.allowedIps).toBeUndefined();
    expect(config.admin).toEqual({ enabled: true, prefix: '/admin', scope: 'admin' });
  });

  it('a route takes defaults.* first, then the upstream (timeoutMs), and its own values win', () => {
    const result = validateConfigTree(
      {
        ...minimal,
        upstreams: { api: { url: 'http://127.0.0.1:3000', timeoutMs: 5000 } },
        defaults: { auth: { type: 'apiKey' }, rateLimits: [{ limit: 100, window: '15m' }], cors: { origins: ['https://app.example.com'] } },
        routes: [
          { match: { prefix: '/a' }, upstream: 'api' },
          { match: { prefix: '/b' }, upstream: 'api', timeoutMs: 100, rateLimits: [], cors: false, bodyLimit: '50kb' },
        ],
      },
      {},
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const [a, b] = result.config.routes;
    expect(a).toMatchObject({ auth: { type: 'apiKey' }, timeoutMs: 5000, rateLimits: [{ name: 'a.0', limit: 100, windowMs: 900_000 }] });
    expect(a?.cors).toMatchObject({ origins: ['https://app.example.com'] });
    expect(b).toMatchObject({ timeoutMs: 100, rateLimits: [], cors: false, bodyLimit: 50 * 1024 });
  });

  // Regression: `/admin/` registered the endpoints under `/admin//keys`, which nothing reached.
  it('refuses an admin prefix with a trailing slash, or the root', () => {
    expect(problemsOf({ ...minimal, admin: { prefix: '/admin/' } })).toEqual(['admin.prefix: expected a path such as /admin (no trailing slash)']);
    expect(problemsOf({ ...minimal, admin: { prefix: '/' } })).toEqual(['admin.prefix: expected a path such as /admin (no trailing slash)']);
    expect(problemsOf({ ...minimal, admin: { prefix: '/ops/admin' } })).toEqual([]);
  });

  it('accepts numbers and booleans as strings, because ${VAR} interpolation produces strings', () => {
    const result = validateConfigTree({ ...minimal, server: { port: '${PORT}', httpsRedirect: '${REDIRECT}' } }, { PORT: '9090', REDIRECT: 'true' });
    expect(result.ok && result.config.server).toMatchObject({ port: 9090, httpsRedirect: true });
  });

  it('reports every problem at once, each with its path', () => {
    const problems = problemsOf({
      server: { port: 70_000, bodyLimit: '5 parsecs', colour: 'blue' },
      upstreams: { api: { url: 'ftp://example.com' } },
      routes: [
        { match: { prefix: '/v1' }, upstream: 'api', auth: { type: 'apiKey' }, rateLimits: [{ limit: 0, window: '1m', by: 'header' }] },
        { match: {}, upstream: 'api', auth: { type: 'magic' } },
      ],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^server\.port: must be at most 65535/),
        expect.stringMatching(/^server\.bodyLimit: /),
        expect.stringMatching(/^server: Unrecognized key: "colour"/),
        expect.stringMatching(/^upstreams\.api\.url: /),
        expect.stringMatching(/^routes\[0\]\.rateLimits\[0\]\.limit: must be at least 1/),
        expect.stringMatching(/^routes\[0\]\.rateLimits\[0\]\.header: /),
        expect.stringMatching(/^routes\[1\]\.match: give exactly one of `prefix` or `path`/),
        expect.stringMatching(/^routes\[1\]\.auth\.type: /),
      ]),
    );
    expect(problems.length).toBeGreaterThanOrEqual(8);
  });

  it('refuses a route that is neither authenticated nor explicitly public', () => {
    expect(problemsOf({ ...minimal, routes: [{ match: { prefix: '/v1' }, upstream: 'api' }] })).toEqual([
      expect.stringMatching(/^routes\[0\]\.auth: no auth: set `auth`/),
    ]);
    expect(problemsOf({ ...minimal, routes: [{ match: { prefix: '/v1' }, upstream: 'api', auth: { type: 'none' } }] })).toEqual([
      expect.stringMatching(/only allowed with `public: true`/),
    ]);
    expect(problemsOf({ ...minimal, routes: [{ match: { prefix: '/v1' }, upstream: 'api', public: true, auth: { type: 'apiKey' } }] })).toEqual([
      expect.stringMatching(/a public route takes no auth/),
    ]);
    expect(problemsOf({ ...minimal, routes: [{ match: { prefix: '/v1' }, upstream: 'api', public: true }] })).toEqual([]);
  });

  it('refuses unknown upstreams, duplicate matches, reserved paths and identity limits on public routes', () => {
    const problems = problemsOf({
      ...minimal,
      routes: [
        { match: { prefix: '/v1' }, upstream: 'nowhere', auth: { type: 'apiKey' } },
        { name: 'second', match: { prefix: '/v1/' }, upstream: 'api', auth: { type: 'apiKey' } },
        { match: { prefix: '/admin/keys' }, upstream: 'api', auth: { type: 'apiKey' } },
        { match: { path: '/health' }, upstream: 'api', public: true },
        { match: { prefix: '/open' }, upstream: 'api', public: true, rateLimits: [{ limit: 5, window: '1m', by: 'apiKey' }] },
      ],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^routes\[0\]\.upstream: unknown upstream "nowhere"/),
        expect.stringMatching(/^routes\[1\]\.match: same prefix and methods as routes\[0\]/),
        expect.stringMatching(/^routes\[2\]\.match: \/admin\/keys is served by the gateway itself/),
        expect.stringMatching(/^routes\[3\]\.match: \/health is served by the gateway itself/),
        expect.stringMatching(/^routes\[4\]\.rateLimits\[0\]\.by: a public route has no identity/),
      ]),
    );
  });

  it('allows the same prefix twice when the methods do not overlap', () => {
    expect(
      problemsOf({
        ...minimal,
        routes: [
          { name: 'read', match: { prefix: '/v1', methods: ['GET'] }, upstream: 'api', auth: { type: 'apiKey' } },
          { name: 'write', match: { prefix: '/v1', methods: ['post', 'PUT'] }, upstream: 'api', auth: { type: 'apiKey' } },
        ],
      }),
    ).toEqual([]);
  });

  it('refuses a misspelt key anywhere instead of ignoring the setting', () => {
    expect(problemsOf({ ...minimal, routes: [{ ...minimal.routes[0], ratelimits: [] }] })).toEqual([expect.stringMatching(/^routes\[0\]: Unrecognized key: "ratelimits"/)]);
  });

  it('refuses trusted proxies that are not addresses, ranges or presets', () => {
    expect(problemsOf({ ...minimal, server: { trustedProxies: ['10.0.0.0/8', 'loopback', '300.1.1.1'] } })).toEqual([expect.stringMatching(/^server\.trustedProxies: .*300\.1\.1\.1/)]);
  });

  it('refuses hostile keys in record sections', () => {
    const tree = JSON.parse('{"upstreams":{"__proto__":{"url":"http://127.0.0.1:1"}},"routes":[]}') as unknown;
    expect(problemsOf(tree).length).toBeGreaterThan(0);
  });
});
