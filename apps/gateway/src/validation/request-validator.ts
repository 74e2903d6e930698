import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { ValidationConfig } from '../config/resolve.js';

/** One validation issue as clients see it: where, and what was expected — never the value sent. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

export interface RequestValidator {
  /** Issues of the JSON body (an empty list when it matches). */
  body(value: unknown): readonly ValidationIssue[];
  /** Issues of the query parameters. */
  query(value: Readonly<Record<string, string | readonly string[]>>): readonly ValidationIssue[];
  readonly hasBody: boolean;
  readonly hasQuery: boolean;
}

export type CompileResult = { readonly ok: true; readonly validator: RequestValidator } | { readonly ok: false; readonly problems: readonly string[] };

/** A client gets at most this many issues: enough to fix a request, not a map of the schema. */
const MAX_ISSUES = 20;

/**
 * Compiles a route's JSON Schemas once (ajv, draft 2020-12, all errors). Query parameters arrive as
 * strings, so the query schema coerces (`"5"` satisfies `type: integer`) on a copy; the body schema
 * never coerces. Schemas that do not compile are config problems, reported by `bulwark check`.
 */
export function compileRequestValidator(config: ValidationConfig): CompileResult {
  const problems: string[] = [];
  const bodyAjv = new Ajv2020({ allErrors: true, strict: true, coerceTypes: false, useDefaults: false });
  const queryAjv = new Ajv2020({ allErrors: true, strict: true, coerceTypes: 'array', useDefaults: false });
  const compile = (ajv: Ajv2020, schema: Record<string, unknown> | undefined, label: string): ValidateFunction | undefined => {
    if (schema === undefined) return undefined;
    try {
      return ajv.compile(schema);
    } catch (error) {
      problems.push(`${label}: ${(error as Error).message}`);
      return undefined;
    }
  };
  const body = compile(bodyAjv, config.body, 'validation.body');
  const query = compile(queryAjv, config.query, 'validation.query');
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    validator: {
      hasBody: body !== undefined,
      hasQuery: query !== undefined,
      body: (value) => (body === undefined || body(value) ? [] : issues(body.errors, 'body')),
      query: (value) => {
        if (query === undefined) return [];
        const copy: Record<string, unknown> = {};
        for (const [name, entry] of Object.entries(value)) copy[name] = Array.isArray(entry) ? [...entry] : entry;
        return query(copy) ? [] : issues(query.errors, 'query');
      },
    },
  };
}

function issues(errors: readonly ErrorObject[] | null | undefined, root: string): ValidationIssue[] {
  return (errors ?? []).slice(0, MAX_ISSUES).map((error) => ({
    path: `${root}${error.instancePath.replaceAll('/', '.')}`,
    message: error.message ?? 'is invalid',
  }));
}
