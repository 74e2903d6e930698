import { createCircuitBreaker, type CircuitBreaker, type BreakerEnvDefaults } from 'bulwark/resilience';
import type { LoggerLike } from 'bulwark/observability';
import type { Registry } from 'prom-client';
import type { BreakerConfig } from '../config/schema.js';

/**
 * The circuit breakers of the upstreams, by upstream name. A reload keeps a breaker (and its state:
 * an open breaker stays open) when the upstream's breaker settings did not change, and replaces it
 * when they did. The admin API reads and drives them from here.
 */
export interface BreakerSet {
  /** The breaker of an upstream, created or kept for these settings. */
  forUpstream(name: string, config: BreakerConfig): CircuitBreaker;
  get(name: string): CircuitBreaker | undefined;
  entries(): IterableIterator<[string, CircuitBreaker]>;
  /** Disposes the breakers of upstreams no longer in `names`. */
  retain(names: ReadonlySet<string>): void;
}

export interface BreakerSetOptions {
  readonly registry: Registry;
  readonly logger: LoggerLike;
  /** Defaults from BULWARK_BREAKER_* (see `breakerDefaultsFromEnv`). */
  readonly defaults: BreakerEnvDefaults;
}

export function createBreakerSet(options: BreakerSetOptions): BreakerSet {
  const breakers = new Map<string, { breaker: CircuitBreaker; fingerprint: string }>();
  // Replaced by a reload; disposed once the new table is in use (`retain`).
  const superseded: CircuitBreaker[] = [];
  return {
    forUpstream(name, config) {
      const fingerprint = JSON.stringify(config);
      const existing = breakers.get(name);
      if (existing !== undefined && existing.fingerprint === fingerprint) return existing.breaker;
      if (existing !== undefined) superseded.push(existing.breaker);
      const breaker = createCircuitBreaker({
        name: `upstream:${name}`,
        service: name,
        failureThreshold: config.failureThreshold ?? options.defaults.failureThreshold,
        failureRate: { threshold: config.failureRatePercent / 100, minimumCalls: config.minimumCalls, window: { kind: 'time', durationMs: config.windowMs } },
        ...(config.slowCall === undefined ? {} : { slowCall: { durationMs: config.slowCall.durationMs, rateThreshold: config.slowCall.ratePercent / 100 } }),
        resetTimeoutMs: config.resetTimeoutMs ?? options.defaults.resetTimeoutMs,
        halfOpenRequests: config.halfOpenRequests ?? options.defaults.halfOpenRequests,
        mode: config.enabled ? 'normal' : 'disabled',
        registry: options.registry,
        logger: options.logger,
      });
      breakers.set(name, { breaker, fingerprint });
      return breaker;
    },
    get: (name) => breakers.get(name)?.breaker,
    *entries() {
      for (const [name, entry] of breakers) yield [name, entry.breaker];
    },
    retain(names) {
      for (const breaker of superseded.splice(0)) breaker.dispose();
      for (const [name, entry] of breakers) {
        if (!names.has(name)) {
          entry.breaker.dispose();
          breakers.delete(name);
        }
      }
    },
  };
}
