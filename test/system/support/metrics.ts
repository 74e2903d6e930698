/**
 * Reading the gateway's `/metrics` (Prometheus text format 0.0.4) — the figures a user's own
 * Prometheus would scrape, so the suite measures what an operator sees.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the exposition text into samples (comments and malformed lines are skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) labels[label[1] ?? ''] = (label[2] ?? '').replace(/\\(.)/g, '$1');
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

/** Scraped metrics with lookups. */
export interface Metrics {
  readonly samples: readonly Sample[];
  /** The sum of every sample of `name` whose labels include `labels` (0 when there is none). */
  sum(name: string, labels?: Readonly<Record<string, string>>): number;
  /** The one value of `name` with `labels`, or undefined. */
  value(name: string, labels?: Readonly<Record<string, string>>): number | undefined;
}

export function metricsFrom(text: string): Metrics {
  const samples = parseMetrics(text);
  const matching = (name: string, labels: Readonly<Record<string, string>>): Sample[] =>
    samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  return {
    samples,
    sum: (name, labels = {}) => matching(name, labels).reduce((total, sample) => total + sample.value, 0),
    value: (name, labels = {}) => matching(name, labels)[0]?.value,
  };
}
