import { z } from 'zod';
import { signatureKeySchema } from './auth-schema.js';
import { consoleSchema } from './console-schema.js';
import { flag, identifier, integer, ipOrCidr, size, urlPath } from './primitives.js';
import { routeDefaultsSchema, routeSchema } from './route-schema.js';

/**
 * The gateway's config file, as one zod schema. The same schema validates the file and generates the
 * published JSON Schema (`bulwark.schema.json`), so the two cannot drift apart. Objects are strict:
 * a misspelt key is an error, not a silently ignored setting.
 */

export const tlsSchema = z
  .strictObject({
    certDir: z.string().min(1).describe('Directory of the certificate and key; both paths must resolve inside it.'),
    cert: z.string().min(1).describe('Certificate chain (PEM), relative to certDir.'),
    key: z.string().min(1).describe('Private key (PEM), relative to certDir.'),
  })
  .describe('Serve HTTPS. Files are checked at start-up; logs show file names only.');

export const serverSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1').describe('Interface to listen on (env HOST overrides).'),
    port: integer(0, 65_535).default(8080).describe('Port to listen on; 0 picks a free one (env PORT overrides).'),
    trustedProxies: z.array(ipOrCidr()).default([]).describe('Proxies whose X-Forwarded-For is believed. @default none'),
    httpsRedirect: flag().default(false).describe('Redirect plain-HTTP requests (as seen by trusted proxies) to https with 308.'),
    bodyLimit: size().default(1024 * 1024).describe('Largest request body of any route. @default 1mb'),
    tls: tlsSchema.optional(),
    requestTimeoutMs: integer(1000, 3_600_000).default(60_000).describe('Time a client has to send a whole request.'),
    keepAliveTimeoutMs: integer(1000, 600_000).default(72_000).describe('Idle keep-alive time of client connections.'),
    shutdownTimeoutMs: integer(0, 600_000).default(10_000).describe('How long in-flight requests may drain on SIGTERM.'),
    exposeErrors: flag().default(false).describe('Put internal messages and stacks in problems. Never in production.'),
  })
  .describe('The listener.');

export const breakerSchema = z
  .strictObject({
    enabled: flag().default(true).describe('false: calls are only counted (breaker mode `disabled`), never refused.'),
    failureThreshold: integer(1, 1000)
      .optional()
      .describe('Consecutive failures that open the breaker. @default BULWARK_BREAKER_FAILURE_THRESHOLD or 5'),
    failureRatePercent: integer(1, 100).default(50).describe('Failure percentage over the window that opens it.'),
    minimumCalls: integer(1, 1_000_000).default(20).describe('Calls in the window before the failure rate counts.'),
    windowMs: integer(1000, 3_600_000).default(30_000).describe('Length of the failure-rate window.'),
    resetTimeoutMs: integer(100, 3_600_000)
      .optional()
      .describe('How long it stays open before trial calls. @default BULWARK_BREAKER_RESET_TIMEOUT_MS or 30000'),
    halfOpenRequests: integer(1, 100).optional().describe('Trial calls let through when half-open. @default BULWARK_BREAKER_HALF_OPEN_REQUESTS or 3'),
    slowCall: z
      .strictObject({
        durationMs: integer(1, 3_600_000).describe('Calls slower than this (to the response head) are slow.'),
        ratePercent: integer(1, 100).default(50).describe('Slow-call percentage over the window that opens the breaker.'),
      })
      .optional()
      .describe('Open on slow calls too. @default off'),
  })
  .describe('Circuit breaker per upstream: a 5xx, a timeout or a connection error is a failure. Open → 503 UPSTREAM_UNAVAILABLE.');

export const upstreamSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, message: 'expected an http:// or https:// URL' })
      .refine((value) => {
        const url = new URL(value);
        return url.search === '' && url.hash === '' && url.username === '' && url.password === '';
      }, 'no query, fragment or credentials in an upstream URL')
      .describe('Base URL; its path is prepended to the forwarded path.'),
    required: flag().default(false).describe('Readiness (/health/ready) fails while this upstream is down.'),
    healthPath: urlPath().default('/').describe('Probed by readiness when required; any status below 500 is up.'),
    connectTimeoutMs: integer(1, 600_000).default(5_000),
    timeoutMs: integer(1, 3_600_000).default(30_000).describe('Default whole-request deadline of routes to this upstream.'),
    connections: integer(1, 10_000).default(128).describe('Keep-alive pool size.'),
    keepAliveTimeoutMs: integer(1000, 600_000).default(30_000),
    preserveHost: flag().default(false).describe('Forward the client Host instead of the upstream host.'),
    breaker: breakerSchema.prefault({}),
  })
  .describe('A service behind the gateway.');

const cspDirectiveValue = z.union([z.array(z.string().min(1)).min(1), z.string().min(1), z.literal(true), z.literal(false)]);

export const REFERRER_POLICIES = ['no-referrer', 'no-referrer-when-downgrade', 'origin', 'origin-when-cross-origin', 'same-origin', 'strict-origin', 'strict-origin-when-cross-origin', 'unsafe-url'] as const;

export const securityHeadersSchema = z
  .strictObject({
    contentSecurityPolicy: z
      .union([
        z.strictObject({
          directives: z
            .record(z.string(), cspDirectiveValue)
            .optional()
            .describe("Merged over the API defaults (default-src 'none', frame-ancestors 'none', base-uri 'none', form-action 'self'); false removes one."),
          reportOnly: flag().optional().describe('Send Content-Security-Policy-Report-Only (observe before enforcing). @default false'),
        }),
        z.literal(false),
      ])
      .optional()
      .describe('CSP; the report endpoint is added. false sends none. @default the API policy of bulwark/http'),
    cspReportPath: urlPath().default('/csp-report').describe('Endpoint (POST, public, rate limited) receiving CSP reports.'),
    hsts: z
      .union([
        z.strictObject({
          maxAgeSeconds: integer(0, 315_360_000).optional().describe('@default 63072000 (two years)'),
          includeSubDomains: flag().optional().describe('@default true'),
          preload: flag().optional().describe('@default false'),
        }),
        z.literal(false),
      ])
      .optional()
      .describe('Strict-Transport-Security. false only when TLS is terminated elsewhere and HSTS is set there.'),
    frameOptions: z.union([z.enum(['DENY', 'SAMEORIGIN']), z.literal(false)]).optional().describe('@default DENY'),
    referrerPolicy: z.union([z.enum(REFERRER_POLICIES), z.literal(false)]).optional().describe('@default no-referrer'),
    permissionsPolicy: z
      .union([z.record(z.string(), z.union([z.array(z.string()), z.literal(false)])), z.literal(false)])
      .optional()
      .describe('Feature → allow-list, merged over the defaults (every powerful feature denied).'),
    crossOriginOpenerPolicy: z.union([z.enum(['same-origin', 'same-origin-allow-popups', 'unsafe-none']), z.literal(false)]).optional().describe('@default same-origin'),
    crossOriginResourcePolicy: z.union([z.enum(['same-origin', 'same-site', 'cross-origin']), z.literal(false)]).optional().describe('@default same-origin'),
  })
  .describe('Response headers computed once at start-up by bulwark/http buildSecurityHeaders.');

export const metricsSchema = z
  .strictObject({
    enabled: flag().default(true),
    path: urlPath().default('/metrics'),
    token: z.string().min(24, 'a metrics token must be at least 24 characters (use `bulwark secrets generate`)').optional().describe('Bearer token required to scrape (env METRICS_TOKEN).'),
    allowedIps: z
      .array(ipOrCidr())
      .optional()
      .describe('Client IPs allowed to scrape (env METRICS_ALLOWED_IPS). @default loopback only, unless a token is set'),
  })
  .describe('Prometheus endpoint; /health/summary is protected the same way.');

export const healthSchema = z
  .strictObject({
    enabled: flag().default(true),
    probeTimeoutMs: integer(10, 60_000).default(1_000).describe('Timeout of each readiness probe.'),
    cacheMs: integer(0, 60_000).default(1_000).describe('Readiness results are reused for this long.'),
  })
  .describe('/health, /health/live, /health/ready and /health/summary.');

export const adminSchema = z
  .strictObject({
    enabled: flag().default(true),
    prefix: urlPath()
      .refine((path) => path !== '/' && !path.endsWith('/'), 'expected a path such as /admin (no trailing slash)')
      .default('/admin'),
    scope: z.string().min(1).default('admin').describe('Scope an API key needs to use the admin API.'),
  })
  .describe('The admin API (API keys, breakers, limits, audit).');

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const loggingSchema = z
  .strictObject({
    level: z.enum(LOG_LEVELS).default('info').describe('env LOG_LEVEL overrides.'),
    accessLog: flag().default(true),
    redact: z.array(z.string().min(1)).default([]).describe('Extra key names whose values are redacted at any depth, on top of the built-in list.'),
  })
  .describe('Structured JSON logs through the redacting logger.');

export const redisSchema = z
  .strictObject({
    url: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL').describe('env REDIS_URL when absent.'),
    keyPrefix: z.string().min(1).max(64).default('bulwark:'),
    required: flag().default(true).describe('Readiness fails while Redis is down.'),
    timeoutMs: integer(1, 10_000).default(50).describe('Deadline of one rate-limit call to Redis; slower counts as a store failure.'),
    expectedInstances: integer(1, 10_000).default(1).describe('Instances sharing the traffic: while Redis is down, `local` limits enforce limit / expectedInstances.'),
  })
  .describe('Shared state for limits, replay caches and revocation. @default in-process memory (one instance only)');

export const databaseSchema = z
  .strictObject({
    url: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL').describe('env DATABASE_URL when absent.'),
  })
  .describe('API keys and the audit log. @default embedded PGlite in the data directory');

export const sessionsSchema = z
  .strictObject({
    cookieName: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional().describe('The session cookie the application sets (sent as __Host-<name> when secure). @default sid'),
    secureCookie: flag().default(true).describe('The cookie is Secure (and __Host- prefixed): false only for plain-HTTP development.'),
    trustedOrigins: z
      .array(z.string().regex(/^https?:\/\/[^/\s*]+$/, 'expected an exact origin'))
      .default([])
      .describe('Origins (besides the request host) whose unsafe requests pass the CSRF origin check.'),
  })
  .describe('`auth: { type: session }`: sessions the application behind the gateway created, in the shared Redis (or, without Redis, in this process only).');

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    server: serverSchema.prefault({}),
    upstreams: z.record(identifier(), upstreamSchema).refine((upstreams) => Object.keys(upstreams).length > 0, 'declare at least one upstream'),
    defaults: routeDefaultsSchema.prefault({}),
    routes: z.array(routeSchema).min(1, 'declare at least one route'),
    signatureKeys: z.record(identifier(), signatureKeySchema).default({}).describe('Keys for `auth: { type: signature }`.'),
    securityHeaders: securityHeadersSchema.prefault({}),
    metrics: metricsSchema.prefault({}),
    health: healthSchema.prefault({}),
    admin: adminSchema.prefault({}),
    console: consoleSchema.prefault({}),
    logging: loggingSchema.prefault({}),
    sessions: sessionsSchema.prefault({}),
    redis: redisSchema.optional(),
    database: databaseSchema.optional(),
  })
  .describe('Bulwark gateway configuration (bulwark.yaml).');

/** The config file as written (before defaults). */
export type GatewayConfigInput = z.input<typeof configSchema>;
/** The config file once validated, with every default applied. */
export type GatewayFileConfig = z.output<typeof configSchema>;
export type UpstreamConfig = z.output<typeof upstreamSchema>;
export type BreakerConfig = z.output<typeof breakerSchema>;
export type ServerConfig = z.output<typeof serverSchema>;
export type SecurityHeadersConfig = z.output<typeof securityHeadersSchema>;
export type MetricsConfig = z.output<typeof metricsSchema>;
