const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Validates a schema name. Identifiers cannot be bound as parameters, so the only names accepted
 * are ones that need no quoting at all: lower-case ASCII letters, digits and `_`, ≤ 63 characters.
 */
export function checkSchemaName(value: unknown, option: string): string {
  if (typeof value !== 'string' || !SCHEMA_NAME.test(value) || value.startsWith('pg_')) {
    throw new TypeError(`${option} must match ${SCHEMA_NAME.source} and not start with pg_; got ${JSON.stringify(value)}`);
  }
  return value;
}
