import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { BULWARK_ENV_VARIABLES } from 'bulwark/config';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { COMPOSE_ENV_VARIABLES, ENV_EXAMPLE_PATH, renderEnvExample } from '../../deploy/scripts/generate-env-example.js';
import { writeOrCheck } from '../../deploy/scripts/generated-file.js';
import { REPO_ROOT } from './support/kit.js';

/** .env.example: generated from the env schema, every variable once, secrets empty. */

const text = readFileSync(ENV_EXAMPLE_PATH, 'utf8');
const lines = text.split('\n');
/** `# NAME=value` lines: the (commented-out) assignments. */
const assignments = lines.flatMap((line, index) => {
  const match = /^# ([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
  return match === null ? [] : [{ name: match[1] ?? '', value: match[2] ?? '', index }];
});
const secrets = new Set([...Object.entries(BULWARK_ENV_VARIABLES), ...Object.entries(COMPOSE_ENV_VARIABLES)].filter(([, spec]) => spec.secret).map(([name]) => name));
/** The comment lines above an assignment, up to the previous blank line. */
const commentOf = (index: number): string => {
  let start = index;
  while (start > 0 && (lines[start - 1] ?? '').startsWith('#')) start -= 1;
  return lines.slice(start, index).join('\n');
};

const scratch = mkdtempSync(join(tmpdir(), 'bulwark-env-example-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

describe('.env.example', () => {
  it('is what deploy/scripts/generate-env-example.ts produces from the schema (regenerate it after changing the schema)', () => {
    expect(text === renderEnvExample(), 'stale: run `npx tsx --conditions=bulwark-source deploy/scripts/generate-env-example.ts`').toBe(true);
  });

  it('has every variable of the schema and of the compose deployment exactly once, and no other', () => {
    const names = assignments.map((assignment) => assignment.name);
    expect(new Set(names).size, 'each variable once').toBe(names.length);
    expect([...names].sort()).toEqual([...Object.keys(BULWARK_ENV_VARIABLES), ...Object.keys(COMPOSE_ENV_VARIABLES)].sort());
  });

  it('sets nothing when copied: every assignment is commented out', () => {
    expect(parseEnv(text)).toEqual({});
    expect(lines.filter((line) => line !== '' && !line.startsWith('#'))).toEqual([]);
  });

  it('leaves every secret empty, with how to generate it', () => {
    for (const assignment of assignments.filter((candidate) => secrets.has(candidate.name))) {
      expect(assignment.value, assignment.name).toBe('');
      const comment = commentOf(assignment.index);
      expect(comment, assignment.name).toMatch(/Secret/);
      const spec = (BULWARK_ENV_VARIABLES as Record<string, { generate?: unknown }>)[assignment.name] ?? (COMPOSE_ENV_VARIABLES as Record<string, { generate?: unknown }>)[assignment.name];
      if (spec?.generate !== undefined) expect(comment.replace(/\n# /g, ' '), assignment.name).toMatch(/npx bulwark secrets generate|openssl rand -hex/);
    }
  });

  it('shows defaults and examples for the rest, and describes every variable', () => {
    for (const assignment of assignments) {
      expect(commentOf(assignment.index).length, assignment.name).toBeGreaterThan(20);
      if (secrets.has(assignment.name)) continue;
      const spec = (BULWARK_ENV_VARIABLES as Record<string, { example?: string }>)[assignment.name];
      const shown = assignment.value.replace(/^"(.*)"$/, '$1');
      if (spec?.example !== undefined) expect(shown, assignment.name).toBe(spec.example);
    }
    expect(assignments.find((assignment) => assignment.name === 'NODE_ENV')?.value).toBe('development');
    expect(assignments.find((assignment) => assignment.name === 'PORT')?.value).toBe('8080');
  });

  it('declares every variable docker-compose.yml interpolates', () => {
    const compose = readFileSync(join(REPO_ROOT, 'deploy/compose/docker-compose.yml'), 'utf8');
    const used = new Set([...compose.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((match) => match[1] ?? ''));
    const declared = new Set(assignments.map((assignment) => assignment.name));
    expect([...used].filter((name) => !declared.has(name))).toEqual([]);
  });
});

describe('the generators (deploy/scripts/generated-file.ts)', () => {
  it('write the file, then --check passes; --check fails on a stale or missing file and names the command', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const path = join(scratch, 'generated.txt');
    expect(await writeOrCheck(path, () => 'one\n', ['--check'])).toBe(1);
    expect(await writeOrCheck(path, () => 'one\n', [])).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe('one\n');
    expect(await writeOrCheck(path, () => 'one\n', ['--check'])).toBe(0);
    expect(await writeOrCheck(path, () => 'two\n', ['--check'])).toBe(1);
    expect(String(stderr.mock.calls.at(-1)?.[0])).toMatch(/is stale: regenerate it with `npx tsx --conditions=bulwark-source /);
    expect(readFileSync(path, 'utf8'), '--check never writes').toBe('one\n');
    expect(await writeOrCheck(path, () => 'one\n', ['--force'])).toBe(2);
  });
});
