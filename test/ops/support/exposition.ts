/** Reading the Prometheus text exposition format (what GET /metrics answers). */

export interface Exposition {
  /** Family name → type (`counter`, `gauge`, `histogram`, `summary`, `untyped`). */
  readonly families: ReadonlyMap<string, string>;
  /** Every series name a query can select: counters and gauges by name, histograms as `_bucket`, `_sum`, `_count`. */
  readonly seriesNames: ReadonlySet<string>;
  /** Series name → label name → values seen in the samples. */
  readonly labels: ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string>>>;
}

const SUFFIXES: Readonly<Record<string, readonly string[]>> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

export function parseExposition(text: string): Exposition {
  const families = new Map<string, string>();
  const seriesNames = new Set<string>();
  const labels = new Map<string, Map<string, Set<string>>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/.exec(line);
    if (type !== null) {
      const [, family = '', kind = ''] = type;
      families.set(family, kind);
      for (const suffix of SUFFIXES[kind] ?? ['']) seriesNames.add(`${family}${suffix}`);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+/.exec(line);
    if (sample === null) throw new SyntaxError(`not a sample line: ${line}`);
    const [, name = '', body = ''] = sample;
    seriesNames.add(name);
    const byLabel = labels.get(name) ?? new Map<string, Set<string>>();
    labels.set(name, byLabel);
    for (const pair of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      const values = byLabel.get(pair[1] ?? '') ?? new Set<string>();
      values.add((pair[2] ?? '').replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char)));
      byLabel.set(pair[1] ?? '', values);
    }
  }
  return { families, seriesNames, labels };
}
