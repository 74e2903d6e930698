/** Regenerates apps/gateway/bulwark.schema.json from the zod schema of the config file. */
import { JSON_SCHEMA_PATH, writeConfigJsonSchema } from '../src/config/json-schema.js';

await writeConfigJsonSchema();
process.stdout.write(`wrote ${JSON_SCHEMA_PATH}\n`);
