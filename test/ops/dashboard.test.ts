import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { renderDashboard } from '../../deploy/scripts/generate-dashboard.js';
import { DASHBOARD_FILE, REPO_ROOT, allPanels, dashboard, readYaml, type DashboardPanel } from './support/kit.js';
import { labelMatchersInPromql, metricNamesInPromql } from './support/promql.js';
import { promtool } from './support/promtool.js';

/** deploy/grafana: the dashboard (generated, importable, every panel queried) and its provisioning. */

const board = dashboard();
const panels = allPanels(board).filter((panel) => panel.type !== 'row');
const rows = board.panels.filter((panel) => panel.type === 'row');
const expressions = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, expr: target.expr ?? '' })));

/** The panels under each row, in layout order (rows are expanded: their panels follow them). */
function panelsByRow(): Map<string, DashboardPanel[]> {
  const byRow = new Map<string, DashboardPanel[]>();
  let current = '';
  for (const panel of board.panels) {
    if (panel.type === 'row') {
      current = panel.title;
      byRow.set(current, [...(panel.panels ?? [])]);
    } else byRow.get(current)?.push(panel);
  }
  return byRow;
}

const scratch = mkdtempSync(join(tmpdir(), 'bulwark-dashboard-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('deploy/grafana/bulwark.json', () => {
  it('is what deploy/scripts/generate-dashboard.ts produces (regenerate it after editing the source)', () => {
    expect(readFileSync(DASHBOARD_FILE, 'utf8') === renderDashboard(), 'stale: run `npx tsx --conditions=bulwark-source deploy/scripts/generate-dashboard.ts`').toBe(true);
  });

  it('is an importable dashboard: uid, title, schema version, unique panel ids, no overlapping panels', () => {
    expect(board.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(board.title).toBe('Bulwark gateway');
    expect((board as unknown as { schemaVersion: number }).schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = allPanels(board).map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const boxes = allPanels(board).map((panel) => ({ title: panel.title, ...panel.gridPos! }));
    for (const box of boxes) expect(box.x + box.w, box.title).toBeLessThanOrEqual(24);
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `"${a.title}" overlaps "${b.title}"`).toBe(false);
      }
    }
  });

  it('gives every panel the datasource variable and at least one query, each with its own refId', () => {
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      const targets = panel.targets ?? [];
      expect(targets.length, `${panel.title}: no query`).toBeGreaterThan(0);
      expect(new Set(targets.map((target) => target.refId)).size, `${panel.title}: refIds`).toBe(targets.length);
      for (const target of targets) {
        expect(target.expr?.trim().length ?? 0, `${panel.title}: empty query`).toBeGreaterThan(0);
        expect(target.datasource?.uid, panel.title).toBe('${datasource}');
      }
    }
  });

  it('defines every variable the queries use, and a Prometheus datasource variable', () => {
    const defined = new Set(board.templating.list.map((variable) => variable.name));
    expect(board.templating.list.find((variable) => variable.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const builtIn = new Set(['__rate_interval', '__interval', '__range']);
    for (const { panel, expr } of expressions) {
      for (const match of expr.matchAll(/\$\{?(\w+)/g)) {
        const name = match[1] ?? '';
        if (!builtIn.has(name)) expect(defined, `${panel.title}: $${name}`).toContain(name);
      }
    }
  });

  it('scopes every query to the selected job and instances', () => {
    for (const { panel, expr } of expressions) {
      const byMetric = new Map<string, string[]>();
      for (const matcher of labelMatchersInPromql(expr)) byMetric.set(matcher.metric, [...(byMetric.get(matcher.metric) ?? []), `${matcher.label}${matcher.op}${matcher.value}`]);
      for (const metric of metricNamesInPromql(expr)) {
        expect(byMetric.get(metric) ?? [], `${panel.title}: ${metric}`).toEqual(expect.arrayContaining(['job=$job', 'instance=~$instance']));
      }
    }
  });

  it('has the rows and panels operators asked for', () => {
    const byRow = panelsByRow();
    expect(rows.map((row) => row.title)).toEqual(['Overview', 'Traffic', 'Rate limiting', 'Circuit breakers', 'Authentication and audit', 'Upstreams', 'Node.js process']);
    const queriesOf = (row: string): string => (byRow.get(row) ?? []).flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)).join('\n');
    const traffic = queriesOf('Traffic');
    expect(traffic).toMatch(/sum by \(route\) \(rate\(http_requests_total/);
    expect(traffic).toContain('status=~"5.."');
    for (const q of ['0.5', '0.9', '0.99']) expect(traffic).toContain(`histogram_quantile(${q}, sum by (route, le) (rate(http_request_duration_seconds_bucket`);
    const limits = queriesOf('Rate limiting');
    expect(limits).toMatch(/sum by \(result\) \(rate\(ratelimit_decisions_total/);
    expect(limits).toContain('ratelimit_rejected_total');
    expect(limits).toMatch(/result=~"fallback_\.\*\|store_unavailable_\.\*\|circuit_open_\.\*\|shadow"/);
    expect(limits).toMatch(/ratelimit_memory_store_entries\{[^}]*\} \/ ratelimit_memory_store_max_size/);
    const breakers = byRow.get('Circuit breakers') ?? [];
    expect(breakers.find((panel) => panel.type === 'state-timeline')?.targets?.[0]?.expr).toMatch(/^max by \(service\) \(circuit_breaker_state\{/);
    expect(queriesOf('Circuit breakers')).toContain('circuit_breaker_state_transitions_total');
    expect(queriesOf('Upstreams')).toContain('circuit_breaker_latency_seconds_bucket');
    expect(queriesOf('Authentication and audit')).toMatch(/sum by \(scheme, reason\) \(rate\(auth_failures_total/);
    const node = queriesOf('Node.js process');
    for (const metric of ['process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_gc_duration_seconds_sum']) expect(node).toContain(metric);
  });

  it('maps the breaker states 0, 1, 2 to closed, half-open, open', () => {
    const timeline = panels.find((panel) => panel.type === 'state-timeline') as unknown as { fieldConfig: { defaults: { mappings: { options: Record<string, { text: string }> }[] } } };
    const options = timeline.fieldConfig.defaults.mappings[0]?.options ?? {};
    expect(Object.fromEntries(Object.entries(options).map(([value, option]) => [value, option.text]))).toEqual({ 0: 'closed', 1: 'half-open', 2: 'open' });
  });

  it('has only queries Prometheus accepts (each checked by promtool as a recording rule)', async () => {
    // Grafana's variables replaced by values Prometheus would receive.
    const concrete = (expr: string): string =>
      expr
        .replaceAll('$__rate_interval', '1m')
        .replaceAll('$job', 'bulwark')
        .replace(/\$\w+/g, '.*');
    const rules = expressions.map(({ panel, expr }, index) => ({ record: `dashboard:panel_${panel.id}:${index}`, expr: concrete(expr) }));
    const variables = board.templating.list.flatMap((variable) => {
      const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
      const selector = /^label_values\((.*),\s*\w+\)$/.exec(query ?? '')?.[1];
      return selector === undefined ? [] : [{ record: `dashboard:variable_${variable.name}`, expr: concrete(selector) }];
    });
    const file = join(scratch, 'dashboard-queries.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: [...rules, ...variables] }] }));
    const result = await promtool(['check', 'rules', file], REPO_ROOT);
    expect(result.code, result.output).toBe(0);
    expect(rules.length).toBeGreaterThan(30);
  });
});

describe('deploy/grafana/provisioning', () => {
  it('provisions a Prometheus datasource as the default, with a stable uid', () => {
    const file = readYaml(join(REPO_ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yml')) as { apiVersion: number; datasources: Record<string, unknown>[] };
    expect(file.apiVersion).toBe(1);
    expect(file.datasources).toHaveLength(1);
    expect(file.datasources[0]).toMatchObject({ type: 'prometheus', uid: 'prometheus', access: 'proxy', isDefault: true });
    expect(String(file.datasources[0]?.url)).toMatch(/^http:\/\/prometheus:9090$/);
  });

  it('loads the dashboards of a folder at start-up, read-only', () => {
    const file = readYaml(join(REPO_ROOT, 'deploy/grafana/provisioning/dashboards/bulwark.yml')) as { apiVersion: number; providers: { type: string; allowUiUpdates: boolean; options: { path: string } }[] };
    expect(file.apiVersion).toBe(1);
    expect(file.providers).toHaveLength(1);
    expect(file.providers[0]).toMatchObject({ type: 'file', allowUiUpdates: false });
    expect(file.providers[0]?.options.path).toBe('/var/lib/grafana/dashboards/bulwark');
  });
});
