import { dirname } from 'node:path';
import { ed25519SignatureKey, hmacSignatureKey } from 'bulwark/auth';
import { createMetricsRegistry } from 'bulwark/observability';
import { createMemoryStore, createRateLimiter } from 'bulwark/ratelimit';
import { buildSecurityHeaderList } from '../server/security-headers.js';
import { compileRequestValidator } from '../validation/request-validator.js';
import type { Environment } from './interpolate.js';
import { loadConfigFile } from './load.js';
import type { ConfigProblem } from './problems.js';
import type { GatewayConfig } from './resolve.js';
import { loadTlsFiles } from './tls-files.js';

/** What `bulwark check` shows for a valid config, or every problem of an invalid one. */
export type ConfigFileCheck = { readonly ok: true; readonly summary: readonly string[] } | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/**
 * The config-file validator of `bulwark check`: parse, `${VAR}` interpolation, schema, references,
 * request-validation schemas (compiled as at start-up) and the TLS files (inside `certDir`,
 * readable). Every problem is returned at once; nothing is started or contacted.
 *
 * @example
 * createCheckCommand({ validateConfigFile: (path, { source }) => validateConfigFile(path, { source }) })
 */
export async function validateConfigFile(path: string, context: { readonly source: Environment }): Promise<ConfigFileCheck> {
  const result = await checkConfigFile(path, context.source);
  if (!result.ok) return result;
  return { ok: true, summary: summarise(result.config) };
}

/** {@link validateConfigFile} with the resolved config, for start-up. */
export async function checkConfigFile(path: string, env: Environment): Promise<{ readonly ok: true; readonly config: GatewayConfig } | { readonly ok: false; readonly problems: readonly ConfigProblem[] }> {
  const loaded = await loadConfigFile(path, env);
  if (!loaded.ok) return loaded;
  const problems: ConfigProblem[] = [...deepProblems(loaded.config)];
  const tls = loaded.config.server.tls;
  if (tls !== undefined) {
    const files = await loadTlsFiles(tls, dirname(path));
    if (!files.ok) problems.push(...files.problems);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config: loaded.config };
}

/** Problems found by building parts of the pipeline: request-validation schemas, security headers. */
export function deepProblems(config: GatewayConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  try {
    buildSecurityHeaderList(config.securityHeaders);
  } catch (error) {
    problems.push({ path: 'securityHeaders', message: (error as Error).message });
  }
  problems.push(...limitProblems(config));
  problems.push(...signatureKeyProblems(config));
  for (const route of config.routes) {
    if (route.validation === undefined) continue;
    const compiled = compileRequestValidator(route.validation);
    if (!compiled.ok) for (const message of compiled.problems) problems.push({ path: `routes[${route.index}].${message.split(':')[0] ?? 'validation'}`, message: message.slice(message.indexOf(':') + 2) });
  }
  return problems;
}

function summarise(config: GatewayConfig): string[] {
  const authTypes = new Map<string, number>();
  for (const route of config.routes) authTypes.set(route.auth.type, (authTypes.get(route.auth.type) ?? 0) + 1);
  const publicRoutes = config.routes.filter((route) => route.public).length;
  return [
    `  routes:       ${config.routes.length} (${publicRoutes} public; auth ${[...authTypes].map(([type, count]) => `${type} ×${count}`).join(', ')})`,
    `  upstreams:    ${Object.keys(config.upstreams).join(', ')}`,
    `  rate limits:  ${config.routes.reduce((total, route) => total + route.rateLimits.length, 0)} on ${config.redis === undefined ? 'in-process memory' : 'Redis'}`,
    `  tls:          ${config.server.tls === undefined ? 'off (plain HTTP)' : 'on'}`,
  ];
}

/**
 * Signature keys the verifier cannot use (an ed25519 `publicKey` that is not one, a private key):
 * the schema only checks their length, and start-up prepares them — so without this, `bulwark
 * check` and a reload accepted a file on which `bulwark start` then failed. The messages name the
 * key id, never the key.
 */
function signatureKeyProblems(config: GatewayConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [keyId, key] of Object.entries(config.signatureKeys)) {
    try {
      if (key.algorithm === 'hmac-sha256') hmacSignatureKey(keyId, key.secret ?? '');
      else ed25519SignatureKey(keyId, key.publicKey ?? '');
    } catch (error) {
      problems.push({ path: `signatureKeys.${keyId}.${key.algorithm === 'hmac-sha256' ? 'secret' : 'publicKey'}`, message: (error as Error).message });
    }
  }
  return problems;
}

/**
 * Limits the rate limiter refuses (a GCRA rate above 1000 per millisecond, say): built once on a
 * throwaway memory store, as at start-up, so that `bulwark check` reports them too.
 */
function limitProblems(config: GatewayConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const store = createMemoryStore({ registry });
  config.routes.forEach((route) => {
    route.rateLimits.forEach((limit, index) => {
      try {
        createRateLimiter({ name: limit.name, keyPrefix: `check-${route.index}-${index}`, algorithm: limit.algorithm, limit: limit.limit, windowMs: limit.windowMs, store, registry }).dispose();
      } catch (error) {
        problems.push({ path: `routes[${route.index}].rateLimits[${index}]`, message: (error as Error).message });
      }
    });
  });
  store.destroy();
  return problems;
}
