import type { Registry } from 'prom-client';
import type { LoggerLike } from '../observability/logger-like.js';
import { resolveBreakerConfig, type BreakerConfig, type CircuitBreakerOptions } from './breaker-options.js';
import { Breaker } from './circuit-breaker.js';
import type { BreakerSnapshot, CircuitBreaker, CircuitState } from './types.js';
import { describe, integerIn, nonEmptyString, objectOption, rejectUnknownKeys } from './validate.js';

/** Options of {@link createBreakerRegistry}. */
export interface BreakerRegistryOptions {
  /** Most breakers kept, 1–10 000 000. */
  readonly maxSize: number;
  /**
   * Milliseconds without use after which a closed breaker may be evicted to make room,
   * 0–86 400 000. Open, half-open and manually moded breakers are never evicted. @default 60000
   */
  readonly idleMs?: number;
  /**
   * Options of every breaker (each `get` may override them for the breaker it creates). `service`
   * is required: keys may carry tenant or node ids, which must never become metric labels.
   */
  readonly defaults: Omit<CircuitBreakerOptions, 'name'>;
  /** Prometheus registry of the breakers' metrics. @default defaults.registry, else defaultMetricsRegistry() */
  readonly registry?: Registry;
  /** @default defaults.logger, else silentLogger */
  readonly logger?: LoggerLike;
}

/** Breakers by key, bounded. */
export interface BreakerRegistry {
  /**
   * The breaker of `key`, created on first use with the defaults and `overrides` (ignored when the
   * breaker exists). When the registry is full and no breaker can be evicted, returns a shared
   * overflow breaker (named `<overflow>`) rather than growing: memory stays bounded, and the
   * overflowing keys are still protected, together.
   */
  get(key: string, overrides?: Partial<Omit<CircuitBreakerOptions, 'name'>>): CircuitBreaker;
  /** The breaker of `key` if it exists; does not count as use. */
  peek(key: string): CircuitBreaker | undefined;
  /** Removes (and disposes) the breaker of `key`. */
  delete(key: string): boolean;
  /** Removes every breaker. */
  clear(): void;
  readonly size: number;
  keys(): IterableIterator<string>;
  /** Snapshots for health pages and the admin API; filter by state and cap the count on large registries. */
  snapshots(filter?: { readonly states?: readonly CircuitState[]; readonly limit?: number }): BreakerSnapshot[];
}

/** Breakers looked at to find one to evict before falling back to the overflow breaker. */
const EVICTION_SCAN = 64;
const OVERFLOW_NAME = '<overflow>';
const KNOWN_OPTIONS: ReadonlySet<string> = new Set(['maxSize', 'idleMs', 'defaults', 'registry', 'logger']);

class KeyedBreakers implements BreakerRegistry {
  private readonly breakers = new Map<string, Breaker>();
  /** Where the eviction scan resumes: Map iterators stay valid while entries come and go. */
  private hand: Iterator<[string, Breaker]> | undefined;
  private overflowBreaker: Breaker | undefined;
  private overflowing = false;

  constructor(
    private readonly maxSize: number,
    private readonly idleMs: number,
    private readonly defaults: Omit<CircuitBreakerOptions, 'name'>,
    private readonly config: BreakerConfig,
  ) {}

  get size(): number {
    return this.breakers.size;
  }

  get(key: string, overrides?: Partial<Omit<CircuitBreakerOptions, 'name'>>): CircuitBreaker {
    const now = this.config.now();
    const existing = this.breakers.get(key);
    if (existing !== undefined) {
      existing.lastActivityAt = now;
      return existing;
    }
    nonEmptyString('registry key', key, 512);
    if (this.breakers.size >= this.maxSize && !this.evictOne(now)) return this.overflow(key);
    if (this.overflowing) {
      this.overflowing = false;
      this.config.logger.info({ size: this.breakers.size }, 'circuit breaker registry has room again');
    }
    const config = overrides === undefined ? this.config : this.configWith(overrides);
    const breaker = new Breaker(key, config);
    this.breakers.set(key, breaker);
    return breaker;
  }

  peek(key: string): CircuitBreaker | undefined {
    return this.breakers.get(key);
  }

  delete(key: string): boolean {
    const breaker = this.breakers.get(key);
    if (breaker === undefined) return false;
    this.breakers.delete(key);
    breaker.dispose();
    return true;
  }

  clear(): void {
    for (const breaker of this.breakers.values()) breaker.dispose();
    this.breakers.clear();
    this.hand = undefined;
    this.overflowBreaker?.dispose();
    this.overflowBreaker = undefined;
  }

  keys(): IterableIterator<string> {
    return this.breakers.keys();
  }

  snapshots(filter: { readonly states?: readonly CircuitState[]; readonly limit?: number } = {}): BreakerSnapshot[] {
    const limit = filter.limit === undefined ? Number.POSITIVE_INFINITY : integerIn('snapshots limit', filter.limit, 0, Number.MAX_SAFE_INTEGER);
    const states = filter.states === undefined ? undefined : new Set(filter.states);
    const result: BreakerSnapshot[] = [];
    const all = this.overflowBreaker === undefined ? this.breakers.values() : [...this.breakers.values(), this.overflowBreaker];
    for (const breaker of all) {
      if (result.length >= limit) break;
      if (states !== undefined && !states.has(breaker.state)) continue;
      result.push(breaker.snapshot());
    }
    return result;
  }

  private configWith(overrides: Partial<Omit<CircuitBreakerOptions, 'name'>>): BreakerConfig {
    objectOption('overrides', overrides);
    if ('name' in overrides) throw new TypeError('overrides.name is not allowed: a registry names each breaker by its key');
    return resolveBreakerConfig({ ...this.defaults, ...overrides }, 'overrides');
  }

  /** Evicts one closed, idle breaker, looking at no more than {@link EVICTION_SCAN} of them. */
  private evictOne(now: number): boolean {
    const limit = Math.min(this.breakers.size, EVICTION_SCAN);
    for (let scanned = 0; scanned < limit; scanned += 1) {
      let next = this.hand?.next();
      if (next === undefined || next.done === true) {
        this.hand = this.breakers.entries();
        next = this.hand.next();
        if (next.done === true) return false;
      }
      const [key, breaker] = next.value;
      if (breaker.isEvictable(now, this.idleMs)) {
        this.breakers.delete(key);
        breaker.dispose();
        return true;
      }
    }
    return false;
  }

  private overflow(key: string): CircuitBreaker {
    if (!this.overflowing) {
      this.overflowing = true;
      // The key may carry a tenant id: logged (logs are not metric labels), never labelled.
      this.config.logger.warn({ maxSize: this.maxSize, key: describe(key) }, 'circuit breaker registry is full of active breakers; new keys share the overflow breaker');
    }
    this.overflowBreaker ??= new Breaker(OVERFLOW_NAME, this.config);
    return this.overflowBreaker;
  }
}

/**
 * Creates a bounded registry of breakers by key: per upstream, per Redis node or shard, per tenant.
 * When full, it evicts a closed breaker unused for `idleMs` (and removes its metric series if it
 * was the last of its service); it never evicts an open or half-open breaker, whose state is the
 * point, nor one an operator has isolated or disabled. Options and defaults, including the
 * environment's, are validated here, once.
 *
 * @example
 * const breakers = createBreakerRegistry({
 *   maxSize: 10_000,
 *   defaults: { service: 'redis', failureThreshold: 5, resetTimeoutMs: 10_000 },
 * });
 * const value = await breakers.get(`redis:${node}`).execute(() => client.get(key));
 */
export function createBreakerRegistry(options: BreakerRegistryOptions): BreakerRegistry {
  objectOption('options', options);
  rejectUnknownKeys('options', options, KNOWN_OPTIONS);
  const maxSize = integerIn('maxSize', options.maxSize, 1, 10_000_000);
  const idleMs = integerIn('idleMs', options.idleMs, 0, 86_400_000, 60_000);
  const given = objectOption('defaults', options.defaults) as Omit<CircuitBreakerOptions, 'name'>;
  if ('name' in given) throw new TypeError('defaults.name is not allowed: a registry names each breaker by its key');
  if (given.service === undefined) {
    throw new TypeError('defaults.service is required: registry keys may carry tenant or node ids, which must never become metric labels; set the bounded service label of these breakers');
  }
  const defaults: Omit<CircuitBreakerOptions, 'name'> = {
    ...given,
    ...(options.registry === undefined ? {} : { registry: options.registry }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  };
  return new KeyedBreakers(maxSize, idleMs, defaults, resolveBreakerConfig(defaults, 'defaults'));
}
