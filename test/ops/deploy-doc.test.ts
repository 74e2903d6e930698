import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, alertRules } from './support/kit.js';

/** docs/deploy.md: its links resolve and what it states about the kit matches the kit. */

const DOC = join(REPO_ROOT, 'docs/deploy.md');
const text = readFileSync(DOC, 'utf8');
const anchorsOf = (markdown: string): Set<string> =>
  new Set([...markdown.matchAll(/^#+ (.+)$/gm)].map((match) => (match[1] ?? '').toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));

describe('docs/deploy.md', () => {
  it('links only to files and sections that exist', () => {
    for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const [target = '', anchor] = (match[1] ?? '').split('#');
      if (/^[a-z]+:/.test(target)) continue;
      const path = target === '' ? DOC : resolve(dirname(DOC), target);
      expect(existsSync(path), `link to ${match[1]}`).toBe(true);
      if (anchor !== undefined && path.endsWith('.md')) expect(anchorsOf(readFileSync(path, 'utf8')), `anchor of ${match[1]}`).toContain(anchor);
    }
  });

  it('states the number of alert rules there are', () => {
    expect(text).toContain(`${alertRules().length} alert rules`);
  });

  it('covers network placement, secret generation and rotation, and Redis and PostgreSQL hardening', () => {
    for (const heading of ['## Network placement', '## Secrets', '### Rotating', '## Redis', '## PostgreSQL', '## Kubernetes', '## systemd', '## Dashboard and alerts']) expect(text).toContain(`\n${heading}\n`);
    for (const phrase of ['bulwark secrets generate', 'BULWARK_MASTER_KEY_PREVIOUS', 'METRICS_ALLOWED_IPS', 'rediss://', 'sslmode=verify-full', 'user default off']) expect(text).toContain(phrase);
  });

  it('shows the Redis ACL that the compose entrypoint writes', () => {
    const entrypoint = readFileSync(join(REPO_ROOT, 'deploy/compose/redis/entrypoint.sh'), 'utf8');
    const rule = /"user bulwark on >\$\{REDIS_PASSWORD\} ([^"]+)"/.exec(entrypoint)?.[1];
    expect(rule).toBeDefined();
    expect(text).toContain(`user bulwark on >PASSWORD ${rule}`);
  });
});
