import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, alertRules } from './support/kit.js';
import { metricNamesInPromql } from './support/promql.js';

/** docs/runbooks: one page per alert, each with the five parts, all listed in the index. */

const RUNBOOKS = join(REPO_ROOT, 'docs/runbooks');
const SECTIONS = ['## Symptom', '## Confirm', '## Likely causes', '## What to do', '## When to escalate'];
const rules = alertRules();
const pages = readdirSync(RUNBOOKS).filter((file) => file.endsWith('.md') && file !== 'README.md');
const index = readFileSync(join(RUNBOOKS, 'README.md'), 'utf8');
const read = (page: string): string => readFileSync(join(RUNBOOKS, page), 'utf8');

describe('runbooks', () => {
  it('has exactly one page per alert, and no page without an alert', () => {
    const linked = rules.map((rule) => basename(rule.annotations?.runbook_url ?? ''));
    expect(new Set(linked).size, 'no two alerts share a page').toBe(rules.length);
    expect([...pages].sort()).toEqual([...linked].sort());
  });

  it.each(rules.map((rule) => [rule.alert, rule] as const))('the page of %s has every part, in order, and names its severity', (alert, rule) => {
    const text = read(basename(rule.annotations?.runbook_url ?? ''));
    expect(text.split('\n')[0], 'the title names the alert').toMatch(new RegExp(`^# ${alert} — `));
    const positions = SECTIONS.map((section) => text.indexOf(`\n${section}\n`));
    for (const [i, section] of SECTIONS.entries()) expect(positions[i], `${alert}: "${section}"`).toBeGreaterThan(0);
    expect([...positions].sort((a, b) => a - b), `${alert}: the parts are in order`).toEqual(positions);
    expect(text).toContain(`| Severity | ${rule.labels?.severity} |`);
    // Every part says something: no empty headings.
    for (const [i, position] of positions.entries()) {
      const next = positions[i + 1] ?? text.length;
      expect(text.slice(position + SECTIONS[i]!.length + 1, next).trim().length, `${alert}: "${SECTIONS[i]}" is not empty`).toBeGreaterThan(80);
    }
  });

  it.each(rules.map((rule) => [rule.alert, rule] as const))('the page of %s tells how to confirm with a metric the rule reads', (alert, rule) => {
    const text = read(basename(rule.annotations?.runbook_url ?? ''));
    const confirm = text.slice(text.indexOf('## Confirm'), text.indexOf('## Likely causes'));
    const metrics = [...metricNamesInPromql(rule.expr)];
    expect(metrics.some((metric) => new RegExp(`\\b${metric}\\b`).test(confirm)), `${alert}: Confirm names one of ${metrics.join(', ')}`).toBe(true);
  });

  it('lists every alert in the index with its page and severity', () => {
    for (const rule of rules) {
      const page = basename(rule.annotations?.runbook_url ?? '');
      expect(index).toContain(`| \`${rule.alert}\` | ${rule.labels?.severity} | [${page.replace(/\.md$/, '')}](${page}) |`);
    }
  });

  it('links only to files that exist (relative links of every page and the index)', () => {
    for (const page of [...pages, 'README.md']) {
      for (const match of read(page).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = match[1] ?? '';
        if (/^[a-z]+:/.test(target)) continue;
        expect(existsSync(resolve(dirname(join(RUNBOOKS, page)), target)), `${page} → ${target}`).toBe(true);
      }
    }
  });

  it('links to sections that exist', () => {
    const anchors = (text: string): Set<string> =>
      new Set([...text.matchAll(/^#+ (.+)$/gm)].map((match) => (match[1] ?? '').toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    for (const page of pages) {
      for (const match of read(page).matchAll(/\]\(([a-z0-9-]+\.md)#([^)]+)\)/g)) {
        expect(anchors(read(match[1] ?? '')), `${page} → ${match[1]}#${match[2]}`).toContain(match[2]);
      }
    }
  });
});
