import type { z } from 'zod';

/** One problem with one variable. Never contains the variable's value. */
export interface EnvIssue {
  /** The variable's name, e.g. `BULWARK_MASTER_KEY`. */
  readonly variable: string;
  /** What is wrong, e.g. `is not set (required)`. */
  readonly problem: string;
  /** How to fix it. */
  readonly fix: string;
}

export type LoadEnvResult<T> = { readonly ok: true; readonly env: Readonly<T> } | { readonly ok: false; readonly issues: readonly EnvIssue[] };

/** Where variables come from: `process.env` or any record of strings. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** Name used for issues that concern no single variable. */
export const ENVIRONMENT = '(environment)';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function fixFromParams(issue: z.core.$ZodIssue): string | undefined {
  const params = 'params' in issue ? (issue.params as Record<string, unknown> | undefined) : undefined;
  const fix = params?.['fix'];
  return typeof fix === 'string' ? fix : undefined;
}

function redact(text: string, raw: string | undefined): string {
  return raw !== undefined && raw.length >= 3 ? text.split(raw).join('[redacted]') : text;
}

function toEnvIssue(issue: z.core.$ZodIssue, source: EnvSource, describe: (variable: string) => string | undefined): EnvIssue {
  const first = issue.path[0];
  const params = 'params' in issue ? (issue.params as Record<string, unknown> | undefined) : undefined;
  const variable = typeof first === 'string' ? first : typeof params?.['variable'] === 'string' ? params['variable'] : ENVIRONMENT;
  const raw = source[variable];
  const fix = fixFromParams(issue);
  if (fix !== undefined) return { variable, problem: issue.message, fix };
  // An issue from a plain zod schema (not an env* helper): phrase it for a person at a terminal, and
  // redact the value in case that schema's message quotes it (env* helpers never do).
  const description = describe(variable);
  const problem = raw === undefined && issue.code === 'invalid_type' ? 'is not set (required)' : issue.message;
  return {
    variable,
    problem: redact(problem, raw),
    fix: redact(description === undefined ? `Set ${variable} to a valid value.` : `Set ${variable}: ${description}`, raw),
  };
}

function describer(schema: z.ZodType): (variable: string) => string | undefined {
  const shape = 'shape' in schema && typeof schema.shape === 'object' && schema.shape !== null ? (schema.shape as Record<string, z.ZodType | undefined>) : undefined;
  return (variable) => shape?.[variable]?.description;
}

/**
 * Validates the environment against a zod schema once, at start-up, and freezes the result.
 * Every problem is reported at once, by variable name, with how to fix it — never with the value.
 * Variables the schema does not declare are dropped from the result.
 *
 * @param source - where to read variables from. @default process.env
 * @example
 * const result = loadEnv(z.object({ PORT: envInteger({ min: 1, max: 65535, default: 8080 }) }));
 * if (!result.ok) throw new Error(formatEnvIssues(result.issues));
 * server.listen(result.env.PORT);
 */
export function loadEnv<S extends z.ZodType>(schema: S, source: EnvSource = process.env): LoadEnvResult<z.output<S>> {
  // A plain copy: process.env is an exotic object whose getters coerce, and the schema must see a snapshot.
  const snapshot: Record<string, string | undefined> = { ...source };
  const result = schema.safeParse(snapshot);
  if (result.success) return { ok: true, env: deepFreeze(result.data) };
  const describe = describer(schema);
  const seen = new Set<string>();
  const issues: EnvIssue[] = [];
  for (const issue of result.error.issues) {
    const envIssue = toEnvIssue(issue, snapshot, describe);
    const key = `${envIssue.variable}\u0000${envIssue.problem}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(Object.freeze(envIssue));
    }
  }
  return { ok: false, issues: Object.freeze(issues) };
}

export interface FormatEnvIssuesOptions {
  /** First words of the header line, before the count. @default 'Invalid environment' */
  readonly title?: string;
}

/**
 * The issues as text for a terminal: a header, then one entry per problem with its fix.
 *
 * @example
 * // Invalid environment: 2 problems.
 * //   ✗ BULWARK_MASTER_KEY: is required when NODE_ENV=production
 * //     fix: Generate one with `npx bulwark secrets generate` …
 */
export function formatEnvIssues(issues: readonly EnvIssue[], options: FormatEnvIssuesOptions = {}): string {
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  const lines = [`${options.title ?? 'Invalid environment'}: ${count}.`];
  for (const issue of issues) lines.push(`  ✗ ${issue.variable}: ${issue.problem}`, `    fix: ${issue.fix}`);
  return `${lines.join('\n')}\n`;
}

export interface LoadEnvOrExitOptions {
  /** @default process.env */
  readonly source?: EnvSource;
  /** Where the issues are written. @default process.stderr */
  readonly stderr?: { write(text: string): unknown };
  /** Called with 1 on failure. @default process.exit */
  readonly exit?: (code: number) => unknown;
}

/**
 * {@link loadEnv}, or print every issue to stderr and exit with code 1: the fail-fast start-up
 * check. Call it before opening any port or connection.
 *
 * @example
 * const env = loadEnvOrExit(bulwarkEnvSchema);
 */
export function loadEnvOrExit<S extends z.ZodType>(schema: S, options: LoadEnvOrExitOptions = {}): Readonly<z.output<S>> {
  const { source = process.env, stderr = process.stderr, exit = (code: number): never => process.exit(code) } = options;
  const result = loadEnv(schema, source);
  if (result.ok) return result.env;
  stderr.write(formatEnvIssues(result.issues));
  exit(1);
  // Only reached when an injected exit returns: never carry on with an invalid environment.
  throw new Error(`invalid environment: ${result.issues.map((issue) => issue.variable).join(', ')}`);
}
