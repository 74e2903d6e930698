import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, ERROR_CODES, docsAnchor, isErrorCode } from './catalogue.js';

const SEVERITIES = ['critical', 'error', 'warning', 'info'];

describe('error catalogue', () => {
  it('has at least 40 codes, each with an HTTP error status, a severity and a title', () => {
    expect(ERROR_CODES.length).toBeGreaterThanOrEqual(40);
    for (const code of ERROR_CODES) {
      const definition = ERROR_CATALOGUE[code];
      expect(code, code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(Number.isInteger(definition.status) && definition.status >= 400 && definition.status <= 599, code).toBe(true);
      expect(SEVERITIES, code).toContain(definition.severity);
      expect(definition.title.trim().length, code).toBeGreaterThan(0);
    }
  });

  it('is frozen, so no code can be redefined at run time', () => {
    expect(Object.isFrozen(ERROR_CATALOGUE)).toBe(true);
    expect(() => {
      (ERROR_CATALOGUE as unknown as Record<string, unknown>).RATE_LIMITED = { status: 200 };
    }).toThrow(TypeError);
  });

  it('recognises only its own codes, not inherited names', () => {
    expect(isErrorCode('RATE_LIMITED')).toBe(true);
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'rate_limited', '', 42, null]) expect(isErrorCode(name)).toBe(false);
  });

  it('derives the docs anchor as the lower-case code', () => {
    expect(docsAnchor('RATE_LIMITED')).toBe('rate_limited');
  });

  it('answers 5xx only for server-side conditions, and marks client mistakes as info or warning', () => {
    for (const code of ERROR_CODES) {
      const { status, severity } = ERROR_CATALOGUE[code];
      if (status < 500) expect(['info', 'warning'], code).toContain(severity);
    }
  });
});

/** GitHub's heading anchors: lower case, spaces to dashes, punctuation other than `-` and `_` dropped. */
function githubAnchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

describe('docs/errors.md', () => {
  const docs = readFileSync(fileURLToPath(new URL('../../../../docs/errors.md', import.meta.url)), 'utf8');
  const lines = docs.split('\n');

  it('has an entry, under a heading whose anchor is docsAnchor(code), for every code', () => {
    const anchors = new Set(lines.filter((line) => /^#{1,6} /.test(line)).map((line) => githubAnchor(line.replace(/^#+ /, ''))));
    const missing = ERROR_CODES.filter((code) => !anchors.has(docsAnchor(code)));
    expect(missing, `docs/errors.md misses ${missing.join(', ')}`).toEqual([]);
  });

  it('states the same status, severity and title as the catalogue for every code', () => {
    for (const code of ERROR_CODES) {
      const at = lines.indexOf(`### ${code}`);
      const summary = lines.slice(at + 1, at + 4).join(' ');
      const { status, severity, title } = ERROR_CATALOGUE[code];
      expect(summary, code).toContain(`\`${status}\` · severity \`${severity}\` · ${title}`);
    }
  });

  it('documents no code that does not exist', () => {
    const documented = lines.filter((line) => /^### [A-Z][A-Z0-9_]+$/.test(line)).map((line) => line.slice(4));
    expect(documented.filter((code) => !isErrorCode(code))).toEqual([]);
  });
});
