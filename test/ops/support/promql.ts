/**
 * The metric names a PromQL expression reads. Hand-written because the one maintained parser
 * (`@prometheus-io/lezer-promql`) would be a new root dev dependency for a single use; the ops kit's
 * expressions use a small part of the language, and this scanner is checked on every construct
 * they use (test/ops/promql.test.ts), including a property test over generated expressions.
 *
 * How: string literals, Grafana variables, label matchers (`{…}`), grouping label lists
 * (`by (…)`, `on (…)` …), ranges and durations (`[5m]`, `offset 1h`, `@ 123`) are removed; what is
 * left is operators, numbers, function and aggregation names (always followed by `(`), keywords and
 * the metric names of vector selectors. `{__name__="x"}` selectors are read before their braces go.
 * Strings are set aside first, so braces, brackets or keywords inside a regex matcher cannot confuse
 * the later steps.
 */

const KEYWORDS: ReadonlySet<string> = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'start', 'end']);
const GROUPING = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)/g;
const STRING = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g;
/** Grafana's `$var`, `${var}`, `${var:format}` and `[[var]]`. */
const GRAFANA_VARIABLE = /\$\{[^}]*\}|\$\w+|\[\[[^\]]*\]\]/g;
const NAME_MATCHER = /__name__\s*=\s*"#(\d+)"/g;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TOKEN = /[a-zA-Z_:][a-zA-Z0-9_:]*|\d[\w.]*|\S/g;

export function metricNamesInPromql(expression: string): Set<string> {
  const names = new Set<string>();
  // Strings first (a regex matcher may hold braces, brackets or keywords): each becomes "#<index>".
  const strings: string[] = [];
  let text = expression.replace(STRING, (literal) => `"#${strings.push(literal.slice(1, -1)) - 1}"`).replace(GRAFANA_VARIABLE, ' ');
  for (const match of text.matchAll(NAME_MATCHER)) {
    const name = strings[Number(match[1])];
    if (name !== undefined && METRIC_NAME.test(name)) names.add(name);
  }
  text = text.replace(/\{[^{}]*\}/g, ' ');
  text = text.replace(/\[[^\]]*\]/g, ' ');
  text = text.replace(GROUPING, ' ');
  text = text.replace(/\boffset\s+-?[\dsmhdwy]+/g, ' ').replace(/@\s*[\d.]+/g, ' ');
  for (const match of text.matchAll(TOKEN)) {
    const token = match[0];
    if (!/^[a-zA-Z_:]/.test(token) || KEYWORDS.has(token.toLowerCase())) continue;
    if (/^\s*\(/.test(text.slice((match.index ?? 0) + token.length))) continue; // a function or an aggregation
    names.add(token);
  }
  return names;
}

/**
 * The metric names of a Grafana Prometheus variable query: `label_values(selector, label)`,
 * `label_values(label)`, `query_result(expr)`, `metrics(regex)`, `label_names()`.
 */
export function metricNamesInVariableQuery(query: string): Set<string> {
  const trimmed = query.trim();
  const labelValues = /^label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)$/s.exec(trimmed);
  if (labelValues?.[1] !== undefined) return metricNamesInPromql(labelValues[1]);
  if (/^(?:label_values\(\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)|metrics\(.*\)|label_names\(.*\))$/s.test(trimmed)) return new Set();
  const queryResult = /^query_result\((.*)\)$/s.exec(trimmed);
  if (queryResult?.[1] !== undefined) return metricNamesInPromql(queryResult[1]);
  return metricNamesInPromql(trimmed);
}

/** One label matcher of a vector selector: `metric{label op "value"}`. */
export interface LabelMatcher {
  readonly metric: string;
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

/**
 * The label matchers of the `metric{…}` selectors of an expression (Grafana variables are kept as
 * written in values, e.g. `"$job"`). Selectors without a metric name (`{__name__=…}`) are left out.
 */
export function labelMatchersInPromql(expression: string): LabelMatcher[] {
  const strings: string[] = [];
  const text = expression.replace(STRING, (literal) => `"#${strings.push(literal.slice(1, -1)) - 1}"`);
  const matchers: LabelMatcher[] = [];
  for (const selector of text.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^{}]*)\}/g)) {
    const metric = selector[1] ?? '';
    for (const matcher of (selector[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"#(\d+)"/g)) {
      matchers.push({ metric, label: matcher[1] ?? '', op: (matcher[2] ?? '=') as LabelMatcher['op'], value: strings[Number(matcher[3])] ?? '' });
    }
  }
  return matchers;
}
