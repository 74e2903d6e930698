import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALERT_TESTS_PATH, ALERTS_PATH, REPO_ROOT, alertRules, readYaml } from './support/kit.js';
import { metricNamesInPromql } from './support/promql.js';
import { promtool } from './support/promtool.js';

/** The alert rules: promtool's own checks and unit tests, then the conventions of the kit. */

const rules = alertRules();

interface AlertCase {
  readonly eval_time: string;
  readonly alertname: string;
  readonly exp_alerts?: readonly { readonly exp_labels?: Record<string, string> }[] | null;
}
const testFile = readYaml(ALERT_TESTS_PATH) as { rule_files: string[]; tests: { name: string; alert_rule_test?: AlertCase[] }[] };
const cases = testFile.tests.flatMap((test) => test.alert_rule_test ?? []);

describe('promtool', () => {
  it('accepts alerts.yml (promtool check rules)', async () => {
    const result = await promtool(['check', 'rules', ALERTS_PATH], REPO_ROOT);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('passes the rule unit tests of alerts.test.yml (promtool test rules)', async () => {
    const result = await promtool(['test', 'rules', ALERT_TESTS_PATH], dirname(ALERT_TESTS_PATH));
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });
});

describe('alerts.test.yml', () => {
  it('tests alerts.yml itself', () => {
    expect(testFile.rule_files).toEqual(['alerts.yml']);
  });

  it.each(rules.map((rule) => rule.alert))('has a case where %s fires and a case where it must not', (alert) => {
    const mine = cases.filter((testCase) => testCase.alertname === alert);
    const firing = mine.filter((testCase) => (testCase.exp_alerts ?? []).length > 0);
    const quiet = mine.filter((testCase) => (testCase.exp_alerts ?? []).length === 0);
    expect(firing.length, `${alert}: no case expects it to fire`).toBeGreaterThan(0);
    expect(quiet.length, `${alert}: no case expects it to stay quiet`).toBeGreaterThan(0);
    for (const testCase of firing) {
      for (const expected of testCase.exp_alerts ?? []) expect(expected.exp_labels?.severity, `${alert} at ${testCase.eval_time}: expected labels must include the severity`).toBeDefined();
    }
  });

  it('tests no alert that alerts.yml does not define', () => {
    const defined = new Set(rules.map((rule) => rule.alert));
    expect(cases.map((testCase) => testCase.alertname).filter((name) => !defined.has(name))).toEqual([]);
  });
});

describe('alerts.yml', () => {
  it('defines at least the alerts the operators asked for', () => {
    const names = rules.map((rule) => rule.alert);
    expect(new Set(names).size, 'alert names are unique').toBe(names.length);
    for (const required of [
      'BulwarkCircuitBreakerOpen',
      'BulwarkCircuitBreakerFlapping',
      'BulwarkRateLimitStoreUnavailable',
      'BulwarkRateLimitFallbackActive',
      'BulwarkRateLimitMemoryStoreFilling',
      'BulwarkAuthFailureSpike',
      'BulwarkHigh5xxRatio',
      'BulwarkHighLatencyP99',
      'BulwarkUpstreamUnavailable',
      'BulwarkAuditVerificationFailed',
    ]) {
      expect(names).toContain(required);
    }
  });

  it.each(rules.map((rule) => [rule.alert, rule] as const))('%s has a severity, a summary, a description and a runbook that exists', (_name, rule) => {
    expect(['critical', 'warning']).toContain(rule.labels?.severity);
    expect(rule.annotations?.summary?.length ?? 0).toBeGreaterThan(10);
    expect(rule.annotations?.description?.length ?? 0).toBeGreaterThan(20);
    const runbook = rule.annotations?.runbook_url ?? '';
    expect(runbook, 'a repository-relative page: docs/runbooks/<name>.md').toMatch(/^docs\/runbooks\/[a-z0-9-]+\.md$/);
    expect(existsSync(join(REPO_ROOT, runbook)), `${runbook} exists`).toBe(true);
    expect(readFileSync(join(REPO_ROOT, runbook), 'utf8'), `${runbook} is the page of ${rule.alert}`).toContain(rule.alert);
  });

  it.each(rules.map((rule) => [rule.alert, rule.expr] as const))('%s reads only the bulwark job', (_name, expr) => {
    // Metric names such as http_requests_total are common: a shared Prometheus must not page for
    // another service's series.
    for (const metric of metricNamesInPromql(expr)) {
      const selectors = [...expr.matchAll(new RegExp(`\\b${metric}(\\{[^}]*\\})?`, 'g'))];
      for (const selector of selectors) expect(selector[1] ?? '', `${metric} in ${expr}`).toContain('job="bulwark"');
    }
  });
});
