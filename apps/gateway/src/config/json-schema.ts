import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema } from './schema.js';

/** Where the published schema lives (committed; a test fails when it is stale). */
export const JSON_SCHEMA_PATH = fileURLToPath(new URL('../../bulwark.schema.json', import.meta.url));

/**
 * The JSON Schema (draft 2020-12) of the config file, generated from the same zod schema that
 * validates it — as the file is written (`io: 'input'`: sizes may be `50kb`, numbers may be strings
 * from `${VAR}`). Editors use it for completion: `$schema: ./bulwark.schema.json`.
 */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, {
    io: 'input',
    target: 'draft-2020-12',
    // Defaults of transformed values (integers, sizes, flags) are not carried over by zod in input
    // mode; they are written here so that editors show them.
    override: (context) => {
      const def = (context.zodSchema as unknown as { readonly _zod: { readonly def: { readonly type: string; readonly defaultValue?: unknown } } })._zod.def;
      if (def.type === 'default' && context.jsonSchema.default === undefined) {
        context.jsonSchema.default = typeof def.defaultValue === 'function' ? (def.defaultValue as () => unknown)() : def.defaultValue;
      }
    },
  }) as Record<string, unknown>;
  return { $id: 'https://bulwark.dev/schemas/bulwark.schema.json', title: 'Bulwark gateway configuration', ...schema };
}

/** The text committed at {@link JSON_SCHEMA_PATH}. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

/** `npm run -w apps/gateway schema`: regenerates the committed file. */
export async function writeConfigJsonSchema(path: string = JSON_SCHEMA_PATH): Promise<void> {
  await writeFile(path, configJsonSchemaText());
}
