import { createRateLimiter, rateLimitHeaders, type RateLimitStore, type RateLimiter } from 'bulwark/ratelimit';
import type { LoggerLike } from 'bulwark/observability';
import type { Registry } from 'prom-client';
import type { ResolvedRateLimit } from '../config/resolve.js';
import type { RouteLimiter } from '../pipeline/rate-limit.js';

/**
 * The rate limiters of the gateway, by limit name, on one store. A limit with the same name and
 * settings in several routes (a `defaults.rateLimits` entry) is ONE limiter: its budget is shared.
 * A reload keeps a limiter whose settings did not change (its counters with it); a changed limit
 * gets a new key prefix, so its old counters cannot leak into the new definition.
 */
export interface LimiterSet {
  /** Starts building the limiters of a (new) config; nothing changes until `commit`. */
  begin(): LimiterGeneration;
  /** The limiter of a name in use (admin API: inspect, reset a key). */
  get(name: string): RateLimiter | undefined;
  names(): string[];
  dispose(): void;
}

/** The limiters of one config version while its route table is built. */
export interface LimiterGeneration {
  /** The limiter of `limit`: the running one when its settings did not change, else a new one. */
  forLimit(limit: ResolvedRateLimit): RouteLimiter;
  /** Makes this generation current and disposes the limiters it no longer uses. */
  commit(): void;
  /** Disposes what this generation created (the table could not be built). */
  abort(): void;
}

export interface LimiterSetOptions {
  readonly store: RateLimitStore;
  /** Instances sharing the traffic (the local fallback enforces limit / expectedInstances). */
  readonly expectedInstances: number;
  readonly registry: Registry;
  readonly logger: LoggerLike;
}

interface Entry {
  readonly limiter: RateLimiter;
  readonly adapter: RouteLimiter;
  readonly fingerprint: string;
}

export function createLimiterSet(options: LimiterSetOptions): LimiterSet {
  const { store } = options;
  const entries = new Map<string, Entry>();

  const fingerprintOf = (limit: ResolvedRateLimit): string => `${limit.algorithm}:${limit.limit}:${limit.windowMs}:${limit.onStoreFailure}`;

  const build = (limit: ResolvedRateLimit, fingerprint: string): Entry => {
    // `local` needs a store with a fallback (Redis behind a breaker); the memory store never fails.
    const onStoreFailure = limit.onStoreFailure === 'local' && !store.supportsLocalFallback ? undefined : limit.onStoreFailure;
    const limiter = createRateLimiter({
      name: limit.name,
      keyPrefix: `${limit.name}.${shortHash(fingerprint)}`,
      algorithm: limit.algorithm,
      limit: limit.limit,
      windowMs: limit.windowMs,
      store,
      ...(onStoreFailure === undefined ? {} : { onStoreFailure }),
      expectedInstances: options.expectedInstances,
      registry: options.registry,
      logger: options.logger,
    });
    const policy = rateLimitHeaders({ allowed: true, limit: limit.limit, remaining: limit.limit, resetMs: 0, retryAfterMs: 0, reason: 'ok' }, limiter.policy)['ratelimit-policy'] ?? '';
    const adapter: RouteLimiter = {
      config: limit,
      policy,
      consume: (key) => limiter.consume(key),
      item: (decision) => rateLimitHeaders({ ...decision, allowed: true, reason: 'ok' }, limiter.policy).ratelimit ?? '',
    };
    return { limiter, adapter, fingerprint };
  };

  return {
    begin() {
      const next = new Map<string, Entry>();
      const created: Entry[] = [];
      return {
        forLimit(limit) {
          const fingerprint = fingerprintOf(limit);
          const chosen = next.get(limit.name);
          if (chosen !== undefined) {
            if (chosen.fingerprint !== fingerprint) throw new TypeError(`rate limit "${limit.name}" is defined twice with different settings`);
            return chosen.adapter;
          }
          const running = entries.get(limit.name);
          const entry = running !== undefined && running.fingerprint === fingerprint ? running : build(limit, fingerprint);
          if (entry !== running) created.push(entry);
          next.set(limit.name, entry);
          return entry.adapter;
        },
        commit() {
          for (const [name, entry] of entries) if (next.get(name) !== entry) entry.limiter.dispose();
          entries.clear();
          for (const [name, entry] of next) entries.set(name, entry);
        },
        abort() {
          for (const entry of created) entry.limiter.dispose();
        },
      };
    },
    get: (name) => entries.get(name)?.limiter,
    names: () => [...entries.keys()],
    dispose() {
      for (const entry of entries.values()) entry.limiter.dispose();
      entries.clear();
    },
  };
}

/** 8 hex characters of FNV-1a: enough to separate the versions of one limit's settings. */
function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
