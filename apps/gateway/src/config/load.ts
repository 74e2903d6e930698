import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { applyEnvironment } from './environment-overrides.js';
import { interpolate, type Environment } from './interpolate.js';
import { formatPath, type ConfigProblem } from './problems.js';
import { resolveConfig, type GatewayConfig } from './resolve.js';
import { configSchema } from './schema.js';

/**
 * Reads, interpolates, validates and resolves a config. Every problem is collected (parse errors,
 * missing variables, schema issues, broken references) so that one run of `bulwark check` lists them
 * all; the first failing stage stops the later ones only where they would report noise.
 */

export type ConfigResult =
  | { readonly ok: true; readonly config: GatewayConfig; readonly variables: ReadonlySet<string> }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

export type ConfigFormat = 'yaml' | 'json';

/** The format of a config file, from its extension (`.json` is JSON, everything else YAML). */
export function formatOf(path: string): ConfigFormat {
  return extname(path).toLowerCase() === '.json' ? 'json' : 'yaml';
}

/** Parses config text; YAML is parsed as YAML 1.2 core schema, with unique keys and a bounded alias count. */
export function parseConfigText(text: string, format: ConfigFormat): { readonly value: unknown; readonly problems: readonly ConfigProblem[] } {
  if (format === 'json') {
    try {
      return { value: JSON.parse(text) as unknown, problems: [] };
    } catch (error) {
      return { value: undefined, problems: [{ path: '', message: `not valid JSON: ${(error as Error).message}` }] };
    }
  }
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: false, schema: 'core', merge: false });
  if (document.errors.length > 0) {
    return { value: undefined, problems: document.errors.map((error) => ({ path: '', message: `not valid YAML: ${error.message.split('\n')[0] ?? error.code}` })) };
  }
  try {
    return { value: document.toJS({ maxAliasCount: 50 }) as unknown, problems: [] };
  } catch (error) {
    return { value: undefined, problems: [{ path: '', message: `not valid YAML: ${(error as Error).message}` }] };
  }
}

/** Validates an already parsed config tree against the environment. */
export function validateConfigTree(tree: unknown, env: Environment): ConfigResult {
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) {
    return { ok: false, problems: [{ path: '', message: 'the config must be a mapping (an object at the top level)' }] };
  }
  const interpolated = interpolate(tree, env);
  const withEnvironment = applyEnvironment(interpolated.value as Record<string, unknown>, env);
  const parsed = configSchema.safeParse(withEnvironment);
  if (!parsed.success) {
    // A value left empty by a missing variable fails the schema too: report the variable only.
    const missing = new Set(interpolated.problems.map((problem) => problem.path));
    const schemaProblems = issuesToProblems(parsed.error.issues).filter((problem) => !missing.has(problem.path));
    return { ok: false, problems: [...interpolated.problems, ...schemaProblems, ...referenceProblems(withEnvironment)] };
  }
  const resolved = resolveConfig(parsed.data);
  const problems = [...interpolated.problems, ...resolved.problems];
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: resolved.config, variables: interpolated.variables };
}

/** Reads and validates a config file (YAML or JSON by extension). */
export async function loadConfigFile(path: string, env: Environment): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    return { ok: false, problems: [{ path: '', message: `cannot read the config file ${path} (${code})` }] };
  }
  const parsed = parseConfigText(text, formatOf(path));
  if (parsed.problems.length > 0) return { ok: false, problems: parsed.problems };
  return validateConfigTree(parsed.value, env);
}

function issuesToProblems(issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    // A failed union lists the issues of its best branch; show those instead of "invalid input".
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branch = issue.errors.reduce((best, candidate) => (candidate.length < best.length ? candidate : best));
      problems.push(...issuesToProblems(branch.map((nested) => ({ ...nested, path: [...issue.path, ...nested.path] }))));
      continue;
    }
    problems.push({ path: formatPath(issue.path), message: issue.message });
  }
  return problems;
}

/**
 * The reference checks that still make sense when the schema failed (so that one run lists them
 * too): routes naming an upstream that is not declared.
 */
function referenceProblems(tree: Readonly<Record<string, unknown>>): ConfigProblem[] {
  const upstreams = tree.upstreams;
  const routes = tree.routes;
  if (upstreams === null || typeof upstreams !== 'object' || !Array.isArray(routes)) return [];
  const declared = Object.keys(upstreams);
  const problems: ConfigProblem[] = [];
  routes.forEach((route: unknown, index) => {
    const name = route !== null && typeof route === 'object' ? (route as { upstream?: unknown }).upstream : undefined;
    if (typeof name === 'string' && !Object.prototype.hasOwnProperty.call(upstreams, name)) {
      problems.push({ path: `routes[${index}].upstream`, message: `unknown upstream "${name}" (declared: ${declared.join(', ')})` });
    }
  });
  return problems;
}
