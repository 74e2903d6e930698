import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration } from 'prom-client';

export interface MetricsRegistryOptions {
  /** Collect Node's default process metrics (heap, event loop lag, GC, handles). @default true */
  readonly defaultMetrics?: boolean;
  /** Prefix for the default process metrics only; Bulwark's own names are fixed. @default '' */
  readonly defaultMetricsPrefix?: string;
}

/**
 * Creates a Prometheus registry of Bulwark's own, never prom-client's global one, so that two
 * instances in one process (or an application's own metrics) cannot collide.
 *
 * @example
 * const registry = createMetricsRegistry();
 * const text = await registry.metrics();
 */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: options.defaultMetricsPrefix ?? '' });
  }
  return registry;
}

let sharedRegistry: Registry | undefined;

/**
 * The registry components use when none is passed: created on first use (never at import time),
 * without default metrics, so that libraries calling it never start collectors by surprise.
 */
export function defaultMetricsRegistry(): Registry {
  sharedRegistry ??= createMetricsRegistry({ defaultMetrics: false });
  return sharedRegistry;
}

/**
 * Returns the counter called `config.name` in `registry`, creating it on first use. Many
 * components (every breaker, every limiter) share one metric family; registering it twice would throw.
 * Throws a `TypeError` when the name exists with another type.
 */
export function counterIn<L extends string>(registry: Registry, config: Omit<CounterConfiguration<L>, 'registers'>): Counter<L> {
  return existingOrNew(registry, config.name, Counter, () => new Counter<L>({ ...config, registers: [registry] }));
}

/** Like {@link counterIn}, for gauges. */
export function gaugeIn<L extends string>(registry: Registry, config: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L> {
  return existingOrNew(registry, config.name, Gauge, () => new Gauge<L>({ ...config, registers: [registry] }));
}

/** Like {@link counterIn}, for histograms. */
export function histogramIn<L extends string>(registry: Registry, config: Omit<HistogramConfiguration<L>, 'registers'>): Histogram<L> {
  return existingOrNew(registry, config.name, Histogram, () => new Histogram<L>({ ...config, registers: [registry] }));
}

function existingOrNew<M>(registry: Registry, name: string, type: abstract new (...args: never[]) => unknown, create: () => M): M {
  const existing = registry.getSingleMetric(name);
  if (existing === undefined) return create();
  if (!(existing instanceof type)) {
    throw new TypeError(`metric "${name}" is already registered with another type`);
  }
  return existing as M;
}
