/**
 * Where a limit's key comes from: the client IP (behind trusted proxies only, IPv6 grouped by /56),
 * an API key (hashed: a secret never becomes a Redis key or a log line), a tenant, a header, the
 * route, or any function. Each source tags its keys (`ip:`, `ak:`, …) so that a tenant called
 * "203.0.113.9" cannot share a counter with that address.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { createClientIpResolver, ipRateLimitKey, type ClientIpResolver, type ClientIpResolverOptions } from '../http/index.js';

/** What a key source sees of a request; the adapters build it. */
export interface KeyContext<R = unknown> {
  readonly headers: IncomingHttpHeaders;
  /** The socket's peer address. */
  readonly remoteAddress: string | undefined;
  readonly method: string;
  /** The matched route pattern (`/users/:id`), never the raw URL; undefined when unknown. */
  readonly route: string | undefined;
  /** The framework's request object (Express `Request`, Fastify `FastifyRequest`). */
  readonly request: R;
}

/** Returns the key of a request, or `undefined` when the source does not apply (the limit is skipped). */
export type KeySource<R = unknown> = (context: KeyContext<R>) => string | undefined;

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  return text.length === 0 ? undefined : text;
}

/** A short, irreversible digest for secrets used as keys. */
function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22);
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

function headerName(option: string, name: string): string {
  if (typeof name !== 'string' || !HEADER_NAME.test(name)) throw new TypeError(`${option} must be an HTTP header name, got ${JSON.stringify(name)}`);
  return name.toLowerCase();
}

export const keyBy = {
  /**
   * The client IP: `X-Forwarded-For` is read only as far as `trustedProxies` (or `hops`) allow, and
   * IPv6 addresses are grouped by /56, so a customer rotating addresses inside its prefix stays one key.
   * @example keyBy.ip({ trustedProxies: ['loopback', '10.0.0.0/8'] })
   */
  ip<R = unknown>(resolver: ClientIpResolver | ClientIpResolverOptions = {}): KeySource<R> {
    const resolve = typeof resolver === 'function' ? resolver : createClientIpResolver(resolver);
    return (context) => `ip:${ipRateLimitKey(resolve(context.remoteAddress, context.headers['x-forwarded-for']))}`;
  },

  /**
   * An API key from a header (`Authorization: Bearer …` is understood), hashed — as sent, not
   * verified: key by it after authentication, or a made-up key per request is a fresh budget.
   * @default header 'x-api-key'
   */
  apiKey<R = unknown>(options: { readonly header?: string } = {}): KeySource<R> {
    const name = headerName('header', options.header ?? 'x-api-key');
    return (context) => {
      let value = headerValue(context.headers, name);
      if (value === undefined) return undefined;
      if (name === 'authorization') {
        const match = /^Bearer\s+(\S+)$/i.exec(value);
        if (match?.[1] === undefined) return undefined;
        value = match[1];
      }
      return `ak:${digest(value)}`;
    };
  },

  /** The tenant the request belongs to, as your authentication put it on the request. */
  tenant<R = unknown>(get: (request: R) => string | undefined): KeySource<R> {
    if (typeof get !== 'function') throw new TypeError('tenant needs a function returning the tenant id');
    return (context) => {
      const tenant = get(context.request);
      return tenant === undefined || tenant === '' ? undefined : `t:${tenant}`;
    };
  },

  /** The value of a request header (long values are hashed by the limiter). */
  header<R = unknown>(name: string): KeySource<R> {
    const header = headerName('name', name);
    return (context) => {
      const value = headerValue(context.headers, header);
      return value === undefined ? undefined : `h:${header}:${value}`;
    };
  },

  /** The method and route pattern: one budget per endpoint (compose it with a client source). */
  route<R = unknown>(): KeySource<R> {
    return (context) => (context.route === undefined ? undefined : `r:${context.method} ${context.route}`);
  },

  /**
   * The first source that applies. Use it after authentication when a source is a credential:
   * before, a client escapes the later sources by sending a made-up key (see docs/ratelimit.md#keys).
   * @example keyBy.first(keyBy.apiKey(), keyBy.ip())
   */
  first<R = unknown>(...sources: readonly KeySource<R>[]): KeySource<R> {
    checkSources(sources);
    return (context) => {
      for (const source of sources) {
        const key = source(context);
        if (key !== undefined) return key;
      }
      return undefined;
    };
  },

  /** All sources together (undefined if any does not apply). @example keyBy.compose(keyBy.route(), keyBy.ip()) */
  compose<R = unknown>(...sources: readonly KeySource<R>[]): KeySource<R> {
    checkSources(sources);
    return (context) => {
      const parts: string[] = [];
      for (const source of sources) {
        const key = source(context);
        if (key === undefined) return undefined;
        parts.push(key);
      }
      return parts.join('|');
    };
  },
} as const;

function checkSources(sources: readonly unknown[]): void {
  if (sources.length === 0 || sources.some((source) => typeof source !== 'function')) throw new TypeError('key sources must be functions');
}
