import { parseCidrList } from 'bulwark/http';
import type { z } from 'zod';
import type { AuthConfig } from './auth-schema.js';
import type { HttpMethod } from './primitives.js';
import type { ConfigProblem } from './problems.js';
import type { CorsConfig, RateLimitConfig, validationSchema, websocketSchema } from './route-schema.js';
import type { GatewayFileConfig } from './schema.js';

/**
 * Applies the three scopes (global `defaults` → route → upstream) and checks what a schema cannot:
 * references between sections, duplicate or reserved paths, and auth that contradicts `public`.
 */

export type ValidationConfig = z.output<typeof validationSchema>;
export type WebsocketConfig = z.output<typeof websocketSchema>;

export interface ResolvedRateLimit extends RateLimitConfig {
  readonly name: string;
  /** The window in milliseconds (`window` as written, parsed). */
  readonly windowMs: number;
}

export interface RouteMatch {
  /** `prefix` matches the path and everything below it; `path` matches it exactly (with `:params`). */
  readonly kind: 'prefix' | 'path';
  readonly value: string;
  /** `undefined`: every method. */
  readonly methods: readonly HttpMethod[] | undefined;
}

/** A route with every default applied: what the pipeline is built from. */
export interface ResolvedRoute {
  readonly name: string;
  /** Position in the file, for messages. */
  readonly index: number;
  readonly match: RouteMatch;
  readonly upstream: string;
  readonly public: boolean;
  readonly auth: AuthConfig;
  readonly rateLimits: readonly ResolvedRateLimit[];
  readonly bodyLimit: number;
  readonly safeJson: boolean;
  readonly cors: CorsConfig | false;
  readonly validation: ValidationConfig | undefined;
  readonly timeoutMs: number;
  readonly stripPrefix: boolean;
  readonly websocket: WebsocketConfig | undefined;
}

/** The whole validated config, routes resolved. */
export interface GatewayConfig extends Omit<GatewayFileConfig, 'routes' | 'defaults' | '$schema'> {
  readonly routes: readonly ResolvedRoute[];
}

export interface ResolveResult {
  readonly config: GatewayConfig;
  readonly problems: readonly ConfigProblem[];
}

/** Paths the gateway serves itself; no route may claim them. */
export function reservedPaths(config: Pick<GatewayFileConfig, 'metrics' | 'admin' | 'securityHeaders' | 'console'>): readonly string[] {
  const paths = ['/health', config.metrics.path, config.admin.prefix, config.securityHeaders.cspReportPath];
  if (consoleEnabled(config)) paths.push(config.console.path);
  return paths;
}

/** Whether the admin console is served: `console.enabled`, which defaults to `admin.enabled`. */
export function consoleEnabled(config: Pick<GatewayFileConfig, 'admin' | 'console'>): boolean {
  return config.admin.enabled && (config.console.enabled ?? true);
}

/** Whether `path` is `base` or below it, segment-wise (`/admin` covers `/admin/x`, not `/administrator`). */
export function isAtOrBelow(path: string, base: string): boolean {
  const trimmed = base.endsWith('/') ? base.slice(0, -1) : base;
  if (trimmed === '') return true;
  return path === trimmed || path.startsWith(`${trimmed}/`);
}

export function resolveConfig(file: GatewayFileConfig): ResolveResult {
  const problems: ConfigProblem[] = [];
  const routes: ResolvedRoute[] = [];
  const names = new Map<string, number>();
  const reserved = reservedPaths(file);

  file.routes.forEach((route, index) => {
    const at = (suffix: string): string => `routes[${index}]${suffix}`;
    const kind = route.match.prefix === undefined ? 'path' : 'prefix';
    const value = route.match.prefix ?? route.match.path ?? '/';
    const methods = route.match.methods === undefined ? undefined : [...new Set(route.match.methods)];
    const name = route.name ?? deriveName(value, methods);

    const previous = names.get(name);
    if (previous === undefined) names.set(name, index);
    else problems.push({ path: at('.name'), message: `route name "${name}" is already used by routes[${previous}]; set a unique \`name\`` });

    const upstream = file.upstreams[route.upstream];
    if (upstream === undefined || !Object.prototype.hasOwnProperty.call(file.upstreams, route.upstream)) {
      problems.push({ path: at('.upstream'), message: `unknown upstream "${route.upstream}" (declared: ${Object.keys(file.upstreams).join(', ')})` });
    }

    for (const base of reserved) {
      if (isAtOrBelow(value, base) && value !== '/') {
        problems.push({ path: at('.match'), message: `${value} is served by the gateway itself (${base}); choose another path` });
      }
    }

    const auth = resolveAuth(route.public, route.auth, file.defaults.auth);
    // Signature keys come from the key store as well as from `signatureKeys`: not cross-checked here.
    if (!auth.ok) problems.push({ path: at('.auth'), message: auth.message });

    const rateLimits = (route.rateLimits ?? file.defaults.rateLimits).map((limit, limitIndex) => ({ ...limit, name: limit.name ?? `${name}.${limitIndex}`, windowMs: limit.window }));
    const limitNames = new Set<string>();
    rateLimits.forEach((limit, limitIndex) => {
      if (limitNames.has(limit.name)) problems.push({ path: at(`.rateLimits[${limitIndex}].name`), message: `duplicate limit name "${limit.name}"` });
      limitNames.add(limit.name);
      if (route.public && (limit.by === 'apiKey' || limit.by === 'tenant')) {
        problems.push({ path: at(`.rateLimits[${limitIndex}].by`), message: `a public route has no identity to limit by ${limit.by}; use ip or header` });
      }
    });

    if (route.websocket?.enabled === true && methods !== undefined && !methods.includes('GET')) {
      problems.push({ path: at('.websocket'), message: 'WebSocket upgrades are GET requests: add GET to match.methods' });
    }

    routes.push({
      name,
      index,
      match: { kind, value, methods },
      upstream: route.upstream,
      public: route.public,
      auth: auth.ok ? auth.auth : { type: 'none' },
      rateLimits,
      bodyLimit: route.bodyLimit ?? file.server.bodyLimit,
      safeJson: route.safeJson ?? file.defaults.safeJson,
      cors: route.cors ?? file.defaults.cors,
      validation: route.validation,
      timeoutMs: route.timeoutMs ?? file.defaults.timeoutMs ?? upstream?.timeoutMs ?? 30_000,
      stripPrefix: route.stripPrefix,
      websocket: route.websocket,
    });
  });

  if (file.console.enabled === true && !file.admin.enabled) {
    problems.push({ path: 'console.enabled', message: 'the console works through the admin API: set admin.enabled: true, or console.enabled: false' });
  }
  if (consoleEnabled(file)) {
    for (const other of ['/health', file.metrics.path, file.admin.prefix, file.securityHeaders.cspReportPath]) {
      if (isAtOrBelow(file.console.path, other) || isAtOrBelow(other, file.console.path)) problems.push({ path: 'console.path', message: `${file.console.path} overlaps ${other}, served by the gateway itself; choose another path` });
    }
  }
  problems.push(...duplicateMatches(routes));
  problems.push(...cidrProblems('server.trustedProxies', file.server.trustedProxies));
  if (file.metrics.allowedIps !== undefined) problems.push(...cidrProblems('metrics.allowedIps', file.metrics.allowedIps));

  const { routes: _routes, defaults: _defaults, $schema: _schema, ...rest } = file;
  return { config: { ...rest, routes }, problems };
}

type AuthResolution = { readonly ok: true; readonly auth: AuthConfig } | { readonly ok: false; readonly message: string };

function resolveAuth(isPublic: boolean, own: AuthConfig | undefined, fallback: AuthConfig | undefined): AuthResolution {
  if (isPublic) {
    if (own !== undefined && own.type !== 'none') return { ok: false, message: 'a public route takes no auth: remove `auth` or set `public: false`' };
    return { ok: true, auth: { type: 'none' } };
  }
  const auth = own ?? fallback;
  if (auth === undefined) return { ok: false, message: 'no auth: set `auth` (or `defaults.auth`), or mark the route `public: true`' };
  if (auth.type === 'none') return { ok: false, message: '`auth: { type: none }` is only allowed with `public: true`' };
  return { ok: true, auth };
}

function deriveName(path: string, methods: readonly string[] | undefined): string {
  const base = path.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '') || 'root';
  const withMethods = methods === undefined ? base : `${base}.${methods.map((method) => method.toLowerCase()).join('-')}`;
  return withMethods.slice(0, 64).replace(/^[^A-Za-z0-9]+/, '') || 'route';
}

function duplicateMatches(routes: readonly ResolvedRoute[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (let i = 0; i < routes.length; i += 1) {
    for (let j = 0; j < i; j += 1) {
      const a = routes[i];
      const b = routes[j];
      if (a === undefined || b === undefined) continue;
      if (a.match.kind !== b.match.kind || normalise(a.match.value) !== normalise(b.match.value)) continue;
      const overlap = a.match.methods === undefined || b.match.methods === undefined || a.match.methods.some((method) => b.match.methods?.includes(method));
      if (overlap) {
        problems.push({ path: `routes[${a.index}].match`, message: `same ${a.match.kind} and methods as routes[${b.index}] ("${b.name}"): only one can ever match` });
      }
    }
  }
  return problems;
}

/** `/v1/` and `/v1` are the same prefix; `:id` and `:name` the same parameter slot. */
function normalise(path: string): string {
  return path.replace(/\/+$/, '').replace(/:[^/]+/g, ':');
}

function cidrProblems(path: string, list: readonly string[]): ConfigProblem[] {
  try {
    parseCidrList(list, path);
    return [];
  } catch (error) {
    return [{ path, message: (error as Error).message }];
  }
}
