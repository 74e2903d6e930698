import { Pool } from 'undici';
import type { UpstreamConfig } from '../config/schema.js';
import type { UpstreamGuard } from './upstream-guard.js';

/** An upstream's keep-alive connection pool and what every request to it needs, built once. */
export interface UpstreamPool {
  readonly name: string;
  readonly pool: Pool;
  /** `http://host:port`. */
  readonly origin: string;
  /** The URL path of the upstream without a trailing slash (`''` for the root). */
  readonly basePath: string;
  /** Host header sent unless the upstream preserves the client's. */
  readonly host: string;
  readonly preserveHost: boolean;
  readonly config: UpstreamConfig;
  /** The upstream's circuit breaker. */
  readonly guard: UpstreamGuard;
}

/**
 * One undici `Pool` per upstream: keep-alive connections, no pipelining (a slow response must not
 * hold up the ones queued behind it), connect timeout from the config. Response deadlines are set
 * per request (the route's `timeoutMs`).
 */
export function createUpstreamPool(name: string, config: UpstreamConfig, guard: UpstreamGuard): UpstreamPool {
  const url = new URL(config.url);
  const pool = new Pool(url.origin, {
    connections: config.connections,
    pipelining: 1,
    connectTimeout: config.connectTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    keepAliveMaxTimeout: Math.max(config.keepAliveTimeoutMs, 600_000),
    headersTimeout: config.timeoutMs,
    bodyTimeout: config.timeoutMs,
  });
  return {
    name,
    pool,
    origin: url.origin,
    basePath: url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, ''),
    host: url.host,
    preserveHost: config.preserveHost,
    config,
    guard,
  };
}
