/** Reading the ops kit (alert rules, dashboard) for the tests of test/ops. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../../deploy/scripts/generated-file.js';
import { metricNamesInPromql, metricNamesInVariableQuery } from './promql.js';

export { REPO_ROOT };

export const ALERTS_PATH = join(REPO_ROOT, 'deploy/prometheus/alerts.yml');
export const ALERT_TESTS_PATH = join(REPO_ROOT, 'deploy/prometheus/alerts.test.yml');
export const DASHBOARD_FILE = join(REPO_ROOT, 'deploy/grafana/bulwark.json');

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/** A YAML file; `merge` enables `<<:` merge keys (docker compose files use them). */
export function readYaml(path: string, options: { readonly merge?: boolean } = {}): unknown {
  return parse(readFileSync(path, 'utf8'), { uniqueKeys: true, merge: options.merge ?? false });
}

/** Every alerting rule of alerts.yml, in file order. */
export function alertRules(): AlertRule[] {
  const file = readYaml(ALERTS_PATH) as { groups: { name: string; rules: (AlertRule & { record?: string })[] }[] };
  return file.groups.flatMap((group) => group.rules.filter((rule) => rule.alert !== undefined));
}

export interface DashboardPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly targets?: readonly { readonly expr?: string; readonly refId?: string; readonly datasource?: { readonly uid?: string } }[];
  readonly panels?: readonly DashboardPanel[];
  readonly gridPos?: { readonly h: number; readonly w: number; readonly x: number; readonly y: number };
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly DashboardPanel[];
  readonly templating: { readonly list: readonly { readonly name: string; readonly type: string; readonly query?: string | { readonly query?: string } }[] };
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Panels, those nested in collapsed rows included. */
export function allPanels(board: Dashboard): DashboardPanel[] {
  return board.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** Metric name → where it is used (`alert BulwarkX`, `panel "Title"`, `variable job`). */
export function kitMetricNames(): Map<string, Set<string>> {
  const uses = new Map<string, Set<string>>();
  const add = (names: Iterable<string>, where: string): void => {
    for (const name of names) {
      const set = uses.get(name) ?? new Set<string>();
      set.add(where);
      uses.set(name, set);
    }
  };
  for (const rule of alertRules()) add(metricNamesInPromql(rule.expr), `alert ${rule.alert}`);
  const board = dashboard();
  for (const panel of allPanels(board)) {
    for (const target of panel.targets ?? []) if (target.expr !== undefined) add(metricNamesInPromql(target.expr), `panel "${panel.title}"`);
  }
  for (const variable of board.templating.list) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    if (query !== undefined) add(metricNamesInVariableQuery(query), `variable ${variable.name}`);
  }
  return uses;
}
