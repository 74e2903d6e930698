import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { fastifyPlugin } from 'fastify-plugin';
import type { ConcurrencyLimiter } from '../ratelimit/concurrency-limiter.js';
import { rateLimitError } from '../ratelimit/decision-error.js';
import { rateLimitHeaders, retryAfterSeconds } from '../ratelimit/headers.js';
import type { KeyContext, KeySource } from '../ratelimit/keys.js';
import type { RateLimiter, RateLimitPolicy } from '../ratelimit/limiter.js';
import type { MultiLimiter } from '../ratelimit/multi-limiter.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The rate-limit tier of this route (a key of the plugin's `tiers`), or `false` for none. */
    rateLimitTier?: string | false;
  }
}

export interface FastifyRateLimitOptions {
  /** Limiters by tier name, e.g. `createTieredLimiters({ store })`. */
  readonly tiers: Readonly<Record<string, RateLimiter | MultiLimiter>>;
  /** The tier of routes whose config names none. @default none: such routes are not limited */
  readonly defaultTier?: string;
  /** The key of a request (see `keyBy`); `undefined` skips the limit for that request. */
  readonly key: KeySource<FastifyRequest>;
  /** Units a request costs. @default 1 */
  readonly cost?: (request: FastifyRequest) => number;
  /** Send the IETF `RateLimit-Policy` / `RateLimit` fields. @default true */
  readonly headers?: boolean;
  /** Also send the `X-RateLimit-*` fields. @default false */
  readonly legacyHeaders?: boolean;
  /**
   * When to decide: `onRequest` (before the body is read: cheapest) or `preHandler` (after
   * authentication hooks, for keys by API key or tenant).
   * @default 'onRequest'
   */
  readonly hook?: 'onRequest' | 'preHandler';
  /** A concurrency limit applied to every limited route, with the same key. */
  readonly concurrency?: ConcurrencyLimiter;
}

interface Tier {
  readonly limiter: RateLimiter | MultiLimiter;
  readonly policies: readonly RateLimitPolicy[];
}

const plugin: FastifyPluginCallback<FastifyRateLimitOptions> = (app, options, done) => {
  let tiers: Map<string, Tier>;
  try {
    tiers = checkOptions(options);
  } catch (error) {
    done(error as Error);
    return;
  }
  const ietf = options.headers ?? true;
  const legacy = options.legacyHeaders ?? false;
  const { key, cost, concurrency } = options;

  app.addHook(options.hook ?? 'onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const configured = request.routeOptions.config.rateLimitTier;
    const tierName = configured === undefined ? options.defaultTier : configured;
    if (tierName === false || tierName === undefined) return;
    const tier = tiers.get(tierName);
    if (tier === undefined) throw new TypeError(`route ${request.routeOptions.url ?? request.url} names the unknown rate-limit tier "${tierName}"`);
    const identity = key(contextOf(request));
    if (identity === undefined) return;
    const units = cost === undefined ? 1 : cost(request);
    const decision = await tier.limiter.consume(identity, units);
    const headers = ietf || legacy ? rateLimitHeaders(decision, tier.policies, { ietf, legacy }) : decision.allowed ? {} : { 'retry-after': String(retryAfterSeconds(decision)) };
    const error = rateLimitError(decision, headers);
    if (error !== undefined) throw error;
    void reply.headers(headers);
    if (concurrency !== undefined) {
      const lease = await concurrency.acquire(identity, units);
      if (!lease.allowed) throw rateLimitError(lease.decision, {}, 'concurrency');
      // The client went away while the store decided: 'close' has fired and will not again, so
      // give the slot back now, and stop here (the handler would run for nobody, holding no slot).
      if (reply.raw.closed) {
        void lease.release();
        void reply.hijack();
        return;
      }
      reply.raw.once('close', () => void lease.release());
    }
  });
  done();
};

/**
 * A Fastify plugin enforcing rate-limit tiers per route: each route names its tier in
 * `config.rateLimitTier` (or gets `defaultTier`). Rejections are thrown as `ApiError`s (429
 * `RATE_LIMITED` / `CONCURRENCY_LIMITED`, 503 `RATE_LIMIT_STORE_UNAVAILABLE`) with `Retry-After` and
 * the IETF fields, for Bulwark's problem handlers to answer as problem+json. Registered with
 * fastify-plugin, so it applies to the whole application.
 *
 * @example
 * await app.register(problemErrorsPlugin);
 * await app.register(rateLimitPlugin, { tiers: createTieredLimiters({ store }), defaultTier: 'general', key: keyBy.ip() });
 * app.post('/chat', { config: { rateLimitTier: 'chat' } }, chatHandler);
 * app.get('/health', { config: { rateLimitTier: false } }, health);
 */
export const rateLimitPlugin = fastifyPlugin(plugin, { name: 'bulwark-rate-limit', fastify: '5.x' });

function checkOptions(options: FastifyRateLimitOptions): Map<string, Tier> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (typeof options.tiers !== 'object' || options.tiers === null || Object.keys(options.tiers).length === 0) throw new TypeError('tiers must name at least one limiter');
  if (typeof options.key !== 'function') throw new TypeError('key must be a key source function (see keyBy)');
  if (options.cost !== undefined && typeof options.cost !== 'function') throw new TypeError('cost must be a function of the request');
  if (options.hook !== undefined && options.hook !== 'onRequest' && options.hook !== 'preHandler') throw new TypeError(`hook must be 'onRequest' or 'preHandler', got ${String(options.hook)}`);
  const tiers = new Map<string, Tier>();
  for (const [name, limiter] of Object.entries(options.tiers)) {
    if (typeof limiter?.consume !== 'function') throw new TypeError(`tiers.${name} must be created by createRateLimiter or createMultiLimiter`);
    tiers.set(name, { limiter, policies: 'policy' in limiter ? [limiter.policy] : limiter.limiters.map((each) => each.policy) });
  }
  if (options.defaultTier !== undefined && !tiers.has(options.defaultTier)) throw new TypeError(`defaultTier "${options.defaultTier}" is not one of the tiers (${[...tiers.keys()].join(', ')})`);
  return tiers;
}

function contextOf(request: FastifyRequest): KeyContext<FastifyRequest> {
  return { headers: request.headers, remoteAddress: request.raw.socket.remoteAddress, method: request.method, route: request.routeOptions.url, request };
}
