import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { labelMatchersInPromql, metricNamesInPromql, metricNamesInVariableQuery } from './support/promql.js';

/** The scanner that finds the metric names of alert and dashboard expressions. */

const names = (expression: string): string[] => [...metricNamesInPromql(expression)].sort();

describe('metricNamesInPromql', () => {
  it('finds the metric of a plain selector, with or without matchers', () => {
    expect(names('up')).toEqual(['up']);
    expect(names('up{job="bulwark"} == 0')).toEqual(['up']);
    expect(names('process_cpu_seconds_total{job="bulwark", instance=~"$instance"}')).toEqual(['process_cpu_seconds_total']);
  });

  it('skips functions, aggregations, keywords, grouping labels, numbers and durations', () => {
    const expression = `histogram_quantile(0.99, sum by (job, route, le) (rate(http_request_duration_seconds_bucket{job="bulwark"}[5m] offset 1h))) > 1e3
      and on (job) group_left (service) max without (instance) (circuit_breaker_state) > bool 0
      or vector(0) unless absent(ratelimit_requests_total @ 1700000000)`;
    expect(names(expression)).toEqual(['circuit_breaker_state', 'http_request_duration_seconds_bucket', 'ratelimit_requests_total']);
  });

  it('is not fooled by braces, brackets, keywords or metric-like words inside label values', () => {
    const expression = `sum(rate(http_requests_total{route=~"a{2}|b[0-9]|sum(x)", status!="by (x) up"}[5m])) / sum(rate(http_requests_total{note="fake_metric_total"}[5m]))`;
    expect(names(expression)).toEqual(['http_requests_total']);
  });

  it('reads the name of a {__name__="…"} selector', () => {
    expect(names('count({__name__="nodejs_heap_size_used_bytes", job="bulwark"})')).toEqual(['nodejs_heap_size_used_bytes']);
    expect(names('count({__name__=~"nodejs_.*"})')).toEqual([]);
  });

  it('ignores Grafana variables and interval macros', () => {
    expect(names('sum by (route) (rate(http_requests_total{job="$job", route=~"${route:regex}"}[$__rate_interval]))')).toEqual(['http_requests_total']);
    expect(names('rate(process_cpu_seconds_total[$__range]) * $scale + [[legacy]]')).toEqual(['process_cpu_seconds_total']);
  });

  it('keeps the suffixes of histogram series', () => {
    expect(names('rate(a_seconds_sum[5m]) / rate(a_seconds_count[5m])')).toEqual(['a_seconds_count', 'a_seconds_sum']);
  });

  it('finds every metric of generated expressions and nothing else (property)', () => {
    const metric = fc.stringMatching(/^[a-z][a-z0-9_]{0,20}_(total|seconds|bytes|entries)$/);
    const label = fc.constantFrom('job', 'route', 'service', 'le', 'result', 'instance', 'by', 'sum');
    const value = fc.string({ maxLength: 20 }).map((text) => JSON.stringify(text));
    const selector = fc.record({ metric, matchers: fc.array(fc.tuple(label, fc.constantFrom('=', '!=', '=~', '!~'), value), { maxLength: 3 }), range: fc.constantFrom('', '[5m]', '[$__rate_interval]', '[1h:5m]') });
    const leaf = selector.map(({ metric: name, matchers, range }) => ({
      text: `${name}${matchers.length === 0 ? '' : `{${matchers.map(([l, op, v]) => `${l}${op}${v}`).join(', ')}}`}${range}`,
      names: [name],
      range: range !== '',
    }));
    const expression = fc.letrec<{ node: { text: string; names: string[] } }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf.map((item) => (item.range ? { text: `rate(${item.text})`, names: item.names } : item)),
        fc.tuple(fc.constantFrom('sum', 'max', 'count', 'avg'), fc.array(label, { minLength: 1, maxLength: 2 }), fc.constantFrom('by', 'without'), tie('node')).map(([op, labels, grouping, inner]) => ({ text: `${op} ${grouping} (${labels.join(', ')}) (${inner.text})`, names: inner.names })),
        fc.tuple(tie('node'), fc.constantFrom('/', '+', 'and', 'or', 'unless', '> bool'), tie('node'), fc.option(label)).map(([a, op, b, on]) => ({ text: `${a.text} ${op}${on === null ? '' : ` on (${on})`} ${b.text}`, names: [...a.names, ...b.names] })),
        fc.tuple(tie('node'), fc.double({ min: 0, max: 1e6, noNaN: true })).map(([inner, threshold]) => ({ text: `${inner.text} > ${threshold}`, names: inner.names })),
        tie('node').map((inner) => ({ text: `histogram_quantile(0.99, ${inner.text})`, names: inner.names })),
      ),
    })).node;
    fc.assert(
      fc.property(expression, ({ text, names: expected }) => {
        expect(names(text)).toEqual([...new Set(expected)].sort());
      }),
      { numRuns: 1000 },
    );
  });
});

describe('metricNamesInVariableQuery', () => {
  it('reads the selector of label_values and query_result, not the label', () => {
    expect([...metricNamesInVariableQuery('label_values(http_requests_total{job="$job"}, route)')]).toEqual(['http_requests_total']);
    expect([...metricNamesInVariableQuery('label_values(job)')]).toEqual([]);
    expect([...metricNamesInVariableQuery('query_result(topk(5, sum by (route) (rate(http_requests_total[5m]))))')]).toEqual(['http_requests_total']);
    expect([...metricNamesInVariableQuery('metrics(ratelimit_.*)')]).toEqual([]);
  });
});

describe('labelMatchersInPromql', () => {
  it('lists each matcher with its metric, operator and value', () => {
    expect(labelMatchersInPromql('sum(rate(ratelimit_decisions_total{job="bulwark", result=~"fallback_.*|x{1}"}[5m])) / up{job!="a,b"}')).toEqual([
      { metric: 'ratelimit_decisions_total', label: 'job', op: '=', value: 'bulwark' },
      { metric: 'ratelimit_decisions_total', label: 'result', op: '=~', value: 'fallback_.*|x{1}' },
      { metric: 'up', label: 'job', op: '!=', value: 'a,b' },
    ]);
  });
});
