/**
 * The building block of every `env*` helper: a zod schema from `string | undefined` (what
 * `process.env` holds) to a typed value, whose issues carry a `fix` next to the problem and never
 * the value itself.
 *
 * Rules shared by all helpers, so that no variable is ever "fixed up" silently:
 * - unset (`undefined`): the default when one was declared, otherwise a "not set" issue;
 *   `.optional()` on the returned schema turns unset into `undefined` instead;
 * - set but empty (`VAR=`): an issue, never the default — an empty value is usually a template
 *   variable that did not expand (`REDIS_URL=${REDIS_URL}`);
 * - anything else is parsed strictly, with no trimming.
 */
import { z } from 'zod';

/** A zod schema reading one environment variable. */
export type EnvSchema<T> = z.ZodType<T, string | undefined>;

/** What a helper says about its variable, for generated docs, `.env.example` and CLI output. */
export interface EnvSchemaInfo {
  /** What a valid value looks like, e.g. `an integer between 1 and 65535`. */
  readonly expects: string;
  /** The default as it would be written in the environment, when there is one. */
  readonly defaultText?: string | undefined;
}

/** The outcome of parsing one raw value. */
export type EnvParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string; readonly fix?: string | undefined };

export interface EnvSchemaDefinition<T> {
  /** What a valid value looks like; used in the default problem and fix texts. */
  readonly expects: string;
  /** Parses a non-empty raw value. Must not put the value in its problem text. */
  readonly parse: (raw: string) => EnvParseResult<T>;
  /** How to fix an invalid value. @default `Set it to <expects>.` */
  readonly fix?: string | undefined;
  /** How to set the variable when it is missing. @default the same as `fix` */
  readonly missingFix?: string | undefined;
  /** Value used when the variable is unset. Checked by the caller. */
  readonly default?: { readonly value: T; readonly text: string } | undefined;
  /** Called when unset and there is no default; its result is used instead of a "not set" issue. */
  readonly whenUnset?: (() => T) | undefined;
}

const INFO = new WeakMap<z.ZodType, EnvSchemaInfo>();

/** Adds an environment issue with its fix to a zod context. */
export function addEnvIssue(ctx: z.RefinementCtx, problem: string, fix: string, path?: readonly string[]): void {
  ctx.addIssue({ code: 'custom', message: problem, params: { fix }, ...(path === undefined ? {} : { path: [...path] }) });
}

/** Builds an {@link EnvSchema} from a strict parser. Helpers use it; applications may too. */
export function envSchema<T>(definition: EnvSchemaDefinition<T>): EnvSchema<T> {
  const fix = definition.fix ?? `Set it to ${definition.expects}.`;
  const missingFix = definition.missingFix ?? fix;
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      if (raw === undefined) {
        if (definition.default !== undefined) return definition.default.value;
        if (definition.whenUnset !== undefined) return definition.whenUnset();
        addEnvIssue(ctx, 'is not set (required)', missingFix);
        return z.NEVER;
      }
      if (raw.length === 0) {
        const unsetHint = definition.default === undefined ? '' : `, or remove it to use the default (${definition.default.text})`;
        addEnvIssue(ctx, 'is set but empty', `Set it to ${definition.expects}${unsetHint}.`);
        return z.NEVER;
      }
      const result = definition.parse(raw);
      if (result.ok) return result.value;
      addEnvIssue(ctx, result.problem, result.fix ?? fix);
      return z.NEVER;
    });
  INFO.set(schema, { expects: definition.expects, defaultText: definition.default?.text });
  return schema;
}

/**
 * What an env schema expects and its default, looking through `.optional()`; `undefined` for a
 * schema not built with {@link envSchema}.
 */
export function envSchemaInfo(schema: z.ZodType): (EnvSchemaInfo & { readonly optional: boolean }) | undefined {
  let inner: z.ZodType = schema;
  let optional = false;
  while (inner instanceof z.ZodOptional) {
    optional = true;
    inner = inner.unwrap() as z.ZodType;
  }
  const info = INFO.get(inner);
  return info === undefined ? undefined : { ...info, optional };
}
