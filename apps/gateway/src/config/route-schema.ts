import { z } from 'zod';
import { authSchema } from './auth-schema.js';
import { duration, flag, headerName, httpMethod, identifier, integer, size, urlPath } from './primitives.js';

/** Where a route's rate-limit key comes from. */
export const LIMIT_KEYS = ['ip', 'apiKey', 'tenant', 'header'] as const;
/** What a limit does when its shared store (Redis) cannot be reached. */
export const STORE_FAILURE_MODES = ['local', 'closed', 'open'] as const;
export const LIMIT_ALGORITHMS = ['sliding-window', 'fixed-window', 'gcra'] as const;

export const rateLimitSchema = z
  .strictObject({
    name: identifier().optional().describe('Metric label of this limit. @default `<route>.<index>`'),
    limit: integer(1, 1_000_000_000).describe('Requests allowed per window.'),
    window: duration().describe('Window length, e.g. 1m, 15m, 1h (a number is seconds).'),
    by: z.enum(LIMIT_KEYS).default('ip').describe('Key: client IP, API key id, tenant, or a request header.'),
    header: headerName().optional().describe('With `by: header`: the header whose value is the key.'),
    algorithm: z.enum(LIMIT_ALGORITHMS).default('sliding-window'),
    onStoreFailure: z
      .enum(STORE_FAILURE_MODES)
      .default('local')
      .describe('Store down: `local` limits per instance, `closed` answers 503, `open` lets requests through.'),
  })
  .superRefine((limit, context) => {
    if ((limit.by === 'header') !== (limit.header !== undefined)) {
      context.addIssue({ code: 'custom', path: ['header'], message: '`header` is required with `by: header`, and only then' });
    }
  });

export type RateLimitConfig = z.output<typeof rateLimitSchema>;

export const corsSchema = z
  .strictObject({
    origins: z
      .array(z.string().regex(/^https?:\/\/[^/\s*]+$/, 'expected an exact origin such as https://app.example.com (no path, no wildcard)'))
      .default([])
      .describe('Exact origins allowed (scheme://host[:port]); no wildcards.'),
    developmentPorts: z
      .array(integer(1, 65535))
      .default([])
      .describe('Outside production only: also allow http://localhost:<port> and http://127.0.0.1:<port> for these ports.'),
    methods: z.array(httpMethod()).optional().describe('@default the route methods'),
    allowHeaders: z.array(headerName()).default(['content-type', 'authorization', 'x-api-key', 'x-request-id']),
    exposeHeaders: z.array(headerName()).default(['x-request-id', 'ratelimit', 'ratelimit-policy', 'retry-after']),
    credentials: flag().default(false),
    maxAgeSeconds: integer(0, 86_400).default(600),
  })
  .describe('Cross-origin access. Preflights are answered by the gateway.');

export type CorsConfig = z.output<typeof corsSchema>;

/** A JSON Schema object (validated by ajv when the config loads). */
const jsonSchemaObject = z.record(z.string(), z.unknown()).describe('A JSON Schema (draft 2020-12).');

export const validationSchema = z
  .strictObject({
    body: jsonSchemaObject.optional().describe('Schema of the JSON body; 422 VALIDATION_FAILED when it does not match.'),
    query: jsonSchemaObject.optional().describe('Schema of the query parameters (an object of strings or string arrays).'),
  })
  .describe('Request validation before the proxy.');

export const websocketSchema = z
  .strictObject({
    enabled: flag().default(false),
    maxConnections: integer(1, 1_000_000).default(1000).describe('Open connections on this route per instance.'),
    maxConnectionsPerClient: integer(1, 10_000).default(10).describe('Per identity (key id) or, without one, per IP.'),
    maxMessageBytes: size().default(1024 * 1024),
    idleTimeoutMs: integer(1000, 86_400_000).default(60_000),
  })
  .describe('WebSocket upgrades, authenticated like any request before the upgrade.');

export const matchSchema = z
  .strictObject({
    prefix: urlPath().optional().describe('Matches this path and everything below it (`/v1` matches `/v1` and `/v1/…`).'),
    path: urlPath().optional().describe('Matches exactly this path; `:name` segments match one segment.'),
    methods: z.array(httpMethod()).min(1).optional().describe('@default every method'),
  })
  .superRefine((match, context) => {
    if ((match.prefix === undefined) === (match.path === undefined)) {
      context.addIssue({ code: 'custom', message: 'give exactly one of `prefix` or `path`' });
    }
    if (match.prefix?.includes(':') === true || match.prefix?.includes('*') === true) {
      context.addIssue({ code: 'custom', path: ['prefix'], message: 'a prefix is literal: use `path` for :params' });
    }
  });

export const routeSchema = z.strictObject({
  name: identifier().optional().describe('Used in metrics and logs. @default derived from the match'),
  match: matchSchema,
  upstream: identifier().describe('Name of an entry of `upstreams`.'),
  public: flag().default(false).describe('Serve without authentication; requires `auth: { type: none }` or no auth.'),
  auth: authSchema.optional().describe('@default `defaults.auth`'),
  rateLimits: z.array(rateLimitSchema).max(8).optional().describe('@default `defaults.rateLimits`'),
  bodyLimit: size().optional().describe('@default `server.bodyLimit`'),
  safeJson: flag().optional().describe('Buffer and check JSON bodies (depth, keys, prototype keys). @default `defaults.safeJson`'),
  cors: z.union([corsSchema, z.literal(false)]).optional().describe('@default `defaults.cors` (none)'),
  validation: validationSchema.optional(),
  timeoutMs: integer(1, 3_600_000).optional().describe('Whole-request deadline towards the upstream. @default the upstream timeoutMs'),
  stripPrefix: flag().default(false).describe('Remove the matched prefix before forwarding.'),
  websocket: websocketSchema.optional(),
});

export type RouteConfigInput = z.input<typeof routeSchema>;
export type RouteFileConfig = z.output<typeof routeSchema>;

export const routeDefaultsSchema = z
  .strictObject({
    auth: authSchema.optional(),
    rateLimits: z.array(rateLimitSchema).max(8).default([]),
    cors: z.union([corsSchema, z.literal(false)]).default(false),
    safeJson: flag().default(true),
    timeoutMs: integer(1, 3_600_000).optional(),
  })
  .describe('The global scope: what every route gets unless it says otherwise.');
