/**
 * Fail-fast configuration: declare the environment once as a schema, validate it at start-up,
 * freeze it, and report every problem at once by variable name with how to fix it. See docs/config.md.
 */
export { loadEnv, loadEnvOrExit, formatEnvIssues, ENVIRONMENT } from './load-env.js';
export type { EnvIssue, LoadEnvResult, EnvSource, LoadEnvOrExitOptions, FormatEnvIssuesOptions } from './load-env.js';
export { envSchema, envSchemaInfo, addEnvIssue } from './env-schema.js';
export type { EnvSchema, EnvSchemaInfo, EnvSchemaDefinition, EnvParseResult } from './env-schema.js';
export { envInteger, envDuration, parseDurationMs } from './env-number.js';
export type { EnvIntegerOptions, EnvDurationOptions } from './env-number.js';
export { envBoolean, envEnum, envUrl, envString, isHostOrIp } from './env-values.js';
export type { EnvBooleanOptions, EnvEnumOptions, EnvUrlOptions, EnvStringOptions } from './env-values.js';
export { envCidrList } from './env-cidr-list.js';
export type { EnvCidrListOptions } from './env-cidr-list.js';
export { envSecret, envMasterKey, GENERATE_SECRET_HINT } from './env-secret.js';
export type { EnvSecretOptions } from './env-secret.js';
export { assessSecret, PLACEHOLDER_WORDS, SECRET_MIN_ENTROPY_BITS_PER_CHAR } from './secret-strength.js';
export type { SecretAssessment, SecretWeakness, AssessSecretOptions } from './secret-strength.js';
export { defineEnvTable, envObject, describeEnvTable } from './env-table.js';
export type { EnvVariableSpec, EnvTable, EnvShape, EnvVariableDescription } from './env-table.js';
export { formatDotenv } from './dotenv.js';
export type { DotenvEntry, FormatDotenvOptions } from './dotenv.js';
export { bulwarkEnvSchema, describeBulwarkEnv, BULWARK_ENV_VARIABLES, LOG_LEVELS, METRICS_TOKEN_MIN_BYTES } from './bulwark-env.js';
export type { BulwarkEnv, BulwarkEnvName, BulwarkEnvVariable, BulwarkEnvVariableDescription, MasterKeySource } from './bulwark-env.js';
