import { Histogram } from 'prom-client';
import type { Aggregator, HistogramConfiguration, LabelValues, MetricObjectWithValues, MetricValueWithName } from 'prom-client';

/**
 * Counts of one `service` series: bucket counts (not cumulative; the last slot is above every
 * bound), sum and count. Written on the hot path with plain arithmetic.
 */
export class LatencySeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records `weight` observations of `seconds` (a sampled observation stands for `weight` calls). */
  observe(seconds: number, weight: number): void {
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && seconds > (bounds[index] ?? Number.POSITIVE_INFINITY)) index += 1;
    this.counts[index] = (this.counts[index] ?? 0) + weight;
    this.sum += seconds * weight;
    this.count += weight;
  }

  clear(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

type ServiceLabels = LabelValues<'service'>;

/**
 * A prom-client `Histogram` with one label, `service`, whose observations cost a few additions.
 * prom-client's own `observe` builds a label hash per call (≈ 250 ns here), which would dominate a
 * circuit breaker's success path; this subclass keeps a {@link LatencySeries} per service and
 * renders it when the registry is scraped. It is still a `Histogram` (`instanceof` holds, so
 * `histogramIn` returns it), and `labels()`, `observe()`, `remove()`, `reset()` and `zero()` keep
 * their meaning.
 */
export class ServiceLatencyHistogram extends Histogram<'service'> {
  private readonly seriesByService = new Map<string, LatencySeries>();
  private readonly bounds: readonly number[];

  constructor(config: Omit<HistogramConfiguration<'service'>, 'labelNames' | 'buckets'> & { buckets: readonly number[] }) {
    super({ ...config, buckets: [...config.buckets], labelNames: ['service'] });
    this.bounds = Object.freeze([...config.buckets]);
    // prom-client assigns `observe` as an own property in its constructor; route it to the series.
    Object.defineProperty(this, 'observe', { value: this.observeLabelled, writable: true, configurable: true });
  }

  /** The series of `service`, created on first use; breakers keep it and write to it directly. */
  series(service: string): LatencySeries {
    let series = this.seriesByService.get(service);
    if (series === undefined) {
      series = new LatencySeries(this.bounds);
      this.seriesByService.set(service, series);
    }
    return series;
  }

  private observeLabelled(this: ServiceLatencyHistogram, labelsOrValue: ServiceLabels | number, value?: number): void {
    const labels = typeof labelsOrValue === 'number' ? {} : labelsOrValue;
    const seconds = typeof labelsOrValue === 'number' ? labelsOrValue : value;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds)) throw new TypeError(`Value is not a valid number: ${String(seconds)}`);
    this.series(String(labels.service ?? '')).observe(seconds, 1);
  }

  override labels(...values: string[]): Histogram.Internal<'service'>;
  override labels(labels: ServiceLabels): Histogram.Internal<'service'>;
  override labels(...args: [ServiceLabels] | string[]): Histogram.Internal<'service'> {
    const first = args[0];
    const service = typeof first === 'object' ? String(first.service ?? '') : String(first ?? '');
    const series = this.series(service);
    return {
      observe: (seconds: number) => series.observe(seconds, 1),
      startTimer: () => {
        const start = performance.now();
        return () => series.observe((performance.now() - start) / 1000, 1);
      },
    };
  }

  override remove(...values: string[]): void;
  override remove(labels: ServiceLabels): void;
  override remove(...args: [ServiceLabels] | string[]): void {
    const first = args[0];
    this.seriesByService.delete(typeof first === 'object' ? String(first.service ?? '') : String(first ?? ''));
  }

  override reset(): void {
    // Called by the base constructor before the fields exist.
    if (this.seriesByService === undefined) return;
    for (const series of this.seriesByService.values()) series.clear();
  }

  override zero(labels: ServiceLabels): void {
    this.series(String(labels.service ?? '')).clear();
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<'service'>>> {
    return this.render();
  }

  /** What prom-client's registry calls (when present) to render the text format. */
  async getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<'service'>>> {
    return this.render();
  }

  private async render(): Promise<MetricObjectWithValues<MetricValueWithName<'service'>>> {
    // The fields prom-client's Metric constructor assigns from the configuration.
    const self = this as unknown as { name: string; help: string; aggregator: Aggregator; collect?: (this: unknown) => unknown };
    if (typeof self.collect === 'function') await self.collect.call(this);
    const values: MetricValueWithName<'service'>[] = [];
    const bucketName = `${self.name}_bucket`;
    for (const [service, series] of this.seriesByService) {
      let cumulative = 0;
      for (let index = 0; index < this.bounds.length; index += 1) {
        cumulative += series.counts[index] ?? 0;
        values.push({ metricName: bucketName, labels: { le: this.bounds[index], service } as ServiceLabels, value: cumulative });
      }
      values.push({ metricName: bucketName, labels: { le: '+Inf', service } as ServiceLabels, value: series.count });
      values.push({ metricName: `${self.name}_sum`, labels: { service }, value: series.sum });
      values.push({ metricName: `${self.name}_count`, labels: { service }, value: series.count });
    }
    return { name: self.name, help: self.help, type: 'histogram' as unknown as MetricObjectWithValues<MetricValueWithName<'service'>>['type'], aggregator: self.aggregator, values, collect: () => undefined };
  }
}
