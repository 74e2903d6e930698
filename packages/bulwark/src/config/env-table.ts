/**
 * An environment declared as a table: each variable once, with its schema and everything people
 * and tools need to know about it. The zod object, the `.env.example`, `bulwark secrets generate`
 * and the docs all come from the same table.
 */
import { z } from 'zod';
import { envSchemaInfo } from './env-schema.js';

export interface EnvVariableSpec<S extends z.ZodType = z.ZodType> {
  /** Parses and checks the raw value (usually one of the `env*` helpers). */
  readonly schema: S;
  /** What the variable is for and how to choose a value; one or two sentences. */
  readonly description: string;
  /** Whether the value must never be printed, logged or committed. */
  readonly secret: boolean;
  /** Produces a strong value for `bulwark secrets generate`; only for secrets. */
  readonly generate?: () => string;
  /** A value to show in `.env.example` when there is no default (never a real secret). */
  readonly example?: string;
}

export type EnvTable = Readonly<Record<string, EnvVariableSpec>>;

/** The zod object shape of a table: each variable's schema under its name. */
export type EnvShape<T extends EnvTable> = { -readonly [K in keyof T]: T[K]['schema'] };

const NAME = /^[A-Z][A-Z0-9_]*$/;

/**
 * Checks and freezes a table of variables. Names must be upper snake case; a `generate` function
 * is allowed on secrets only.
 *
 * @throws TypeError naming the offending variable.
 * @example
 * const APP_ENV = defineEnvTable({
 *   PORT: { schema: envInteger({ min: 1, max: 65535, default: 3000 }), description: 'HTTP port.', secret: false },
 * });
 * const appEnvSchema = envObject(APP_ENV);
 */
export function defineEnvTable<const T extends EnvTable>(table: T): T {
  for (const [name, spec] of Object.entries(table)) {
    if (!NAME.test(name)) throw new TypeError(`defineEnvTable: ${JSON.stringify(name)} is not an UPPER_SNAKE_CASE variable name`);
    if (!(spec.schema instanceof z.ZodType)) throw new TypeError(`defineEnvTable: ${name}.schema must be a zod schema`);
    if (typeof spec.description !== 'string' || spec.description.length === 0) throw new TypeError(`defineEnvTable: ${name}.description must be a non-empty string`);
    if (spec.generate !== undefined && !spec.secret) throw new TypeError(`defineEnvTable: ${name}.generate is only for secrets`);
    if (spec.secret && spec.example !== undefined) throw new TypeError(`defineEnvTable: ${name} is a secret and must not have an example value`);
    Object.freeze(spec);
  }
  return Object.freeze(table);
}

/** The zod object of a table (unknown variables are dropped), each field described for JSON Schema. */
export function envObject<const T extends EnvTable>(table: T): z.ZodObject<EnvShape<T>> {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, spec] of Object.entries(table)) shape[name] = spec.schema.describe(spec.description);
  return z.object(shape) as unknown as z.ZodObject<EnvShape<T>>;
}

/** One row of {@link describeEnvTable}. */
export interface EnvVariableDescription {
  readonly name: string;
  readonly description: string;
  readonly secret: boolean;
  /** What a valid value looks like, when the schema is an `env*` helper. */
  readonly expects: string | undefined;
  /** The default as written in the environment, when there is one. */
  readonly defaultText: string | undefined;
  /** Whether the variable may be left unset (optional or defaulted). */
  readonly optional: boolean;
  readonly example: string | undefined;
  readonly generate: (() => string) | undefined;
}

/** The table as plain rows, in declaration order: for `.env.example`, docs and CLI output. */
export function describeEnvTable(table: EnvTable): readonly EnvVariableDescription[] {
  return Object.entries(table).map(([name, spec]) => {
    const info = envSchemaInfo(spec.schema);
    return Object.freeze({
      name,
      description: spec.description,
      secret: spec.secret,
      expects: info?.expects,
      defaultText: info?.defaultText,
      optional: info === undefined ? spec.schema.safeParse(undefined).success : info.optional || info.defaultText !== undefined,
      example: spec.example,
      generate: spec.generate,
    });
  });
}
