import type { Request, RequestHandler, Response } from 'express';
import { rateLimitError } from '../ratelimit/decision-error.js';
import { rateLimitHeaders, retryAfterSeconds } from '../ratelimit/headers.js';
import type { KeyContext, KeySource } from '../ratelimit/keys.js';
import type { ConcurrencyLimiter } from '../ratelimit/concurrency-limiter.js';
import type { RateLimiter, RateLimitPolicy } from '../ratelimit/limiter.js';
import type { MultiLimiter } from '../ratelimit/multi-limiter.js';
import type { RateLimitDecision } from '../ratelimit/types.js';

export interface ExpressRateLimitOptions {
  /** A limiter, or several limits decided together (`createMultiLimiter`). */
  readonly limiter: RateLimiter | MultiLimiter;
  /** The key of a request (see `keyBy`); `undefined` skips the limit for that request. */
  readonly key: KeySource<Request>;
  /** Units a request costs. @default 1 */
  readonly cost?: (req: Request) => number;
  /** Send the IETF `RateLimit-Policy` / `RateLimit` fields on every response. @default true */
  readonly headers?: boolean;
  /** Also send `X-RateLimit-Limit` / `-Remaining` / `-Reset`. @default false */
  readonly legacyHeaders?: boolean;
  /** Requests to leave alone (health checks, say). */
  readonly skip?: (req: Request) => boolean;
}

/**
 * Express middleware enforcing a rate limit. Allowed requests go on with the rate-limit header
 * fields set; rejected ones go to `next(err)` as an `ApiError` — 429 `RATE_LIMITED`, or 503
 * `RATE_LIMIT_STORE_UNAVAILABLE` when a fail-closed limit cannot reach its store — carrying
 * `Retry-After` and the header fields, for `problemErrorHandler()` to answer as problem+json.
 *
 * @example
 * const tiers = createTieredLimiters({ store });
 * app.use(rateLimit({ limiter: tiers.general, key: keyBy.ip({ trustedProxies: ['loopback'] }) }));
 * app.post('/chat', rateLimit({ limiter: tiers.chat, key: keyBy.ip() }), chatHandler);
 * app.use(problemErrorHandler());
 */
export function rateLimit(options: ExpressRateLimitOptions): RequestHandler {
  const { limiter, key, cost, skip } = checkOptions(options);
  const policies: readonly RateLimitPolicy[] = 'policy' in limiter ? [limiter.policy] : limiter.limiters.map((each) => each.policy);
  const ietf = options.headers ?? true;
  const legacy = options.legacyHeaders ?? false;
  return function rateLimitMiddleware(req, res, next) {
    if (skip?.(req) === true) {
      next();
      return;
    }
    const identity = key(contextOf(req));
    if (identity === undefined) {
      next();
      return;
    }
    let decision: Promise<RateLimitDecision>;
    try {
      decision = limiter.consume(identity, cost === undefined ? 1 : cost(req));
    } catch (error) {
      next(error);
      return;
    }
    decision.then((result) => {
      const headers = ietf || legacy ? rateLimitHeaders(result, policies, { ietf, legacy }) : result.allowed ? {} : { 'retry-after': String(retryAfterSeconds(result)) };
      const error = rateLimitError(result, headers);
      if (error !== undefined) {
        next(error);
        return;
      }
      setHeaders(res, headers);
      next();
    }, next);
  };
}

export interface ExpressConcurrencyLimitOptions {
  readonly limiter: ConcurrencyLimiter;
  readonly key: KeySource<Request>;
  /** Slots a request takes. @default 1 */
  readonly cost?: (req: Request) => number;
}

/**
 * Express middleware admitting at most `limit` requests in progress per key. The slot is given back
 * when the response is finished or the connection closes, whichever comes first; a process that
 * dies while holding one loses it after the lease TTL. Refusals go to `next(err)` as 429
 * `CONCURRENCY_LIMITED` with `Retry-After`.
 *
 * @example
 * app.post('/exports', concurrencyLimit({ limiter: exportsInFlight, key: keyBy.tenant((req) => req.bulwark?.tenant) }), exportHandler);
 */
export function concurrencyLimit(options: ExpressConcurrencyLimitOptions): RequestHandler {
  if (typeof options !== 'object' || options === null || typeof options.limiter?.acquire !== 'function') throw new TypeError('limiter must be created by createConcurrencyLimiter');
  if (typeof options.key !== 'function') throw new TypeError('key must be a key source function (see keyBy)');
  const { limiter, key, cost } = options;
  return function concurrencyLimitMiddleware(req, res, next) {
    const identity = key(contextOf(req));
    if (identity === undefined) {
      next();
      return;
    }
    let admission;
    try {
      admission = limiter.acquire(identity, cost === undefined ? 1 : cost(req));
    } catch (error) {
      next(error);
      return;
    }
    admission.then((lease) => {
      if (!lease.allowed) {
        next(rateLimitError(lease.decision, {}, 'concurrency'));
        return;
      }
      // The client went away while the store decided: 'close' has fired and will not again, so
      // give the slot back now, and run nothing for nobody (the work would hold no slot).
      if (res.closed) {
        void lease.release();
        return;
      }
      // 'close' follows 'finish' and also fires when the client goes away first.
      res.once('close', () => void lease.release());
      next();
    }, next);
  };
}

function checkOptions(options: ExpressRateLimitOptions): ExpressRateLimitOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (typeof options.limiter?.consume !== 'function') throw new TypeError('limiter must be created by createRateLimiter or createMultiLimiter');
  if (typeof options.key !== 'function') throw new TypeError('key must be a key source function (see keyBy)');
  if (options.cost !== undefined && typeof options.cost !== 'function') throw new TypeError('cost must be a function of the request');
  if (options.skip !== undefined && typeof options.skip !== 'function') throw new TypeError('skip must be a function of the request');
  return options;
}

function contextOf(req: Request): KeyContext<Request> {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return { headers: req.headers, remoteAddress: req.socket.remoteAddress, method: req.method, route: typeof path === 'string' ? `${req.baseUrl}${path}` : undefined, request: req };
}

function setHeaders(res: Response, headers: Readonly<Record<string, string>>): void {
  if (res.headersSent) return;
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) res.setHeader(name, value);
  }
}
