import type { Environment } from './interpolate.js';

/**
 * The environment variables of the gateway's contract, merged into the file before validation (so
 * they are validated like the file). HOST, PORT and LOG_LEVEL override the file — operators change
 * them per deployment; REDIS_URL, DATABASE_URL, METRICS_TOKEN and METRICS_ALLOWED_IPS fill in what
 * the file leaves out.
 */
export function applyEnvironment(tree: Readonly<Record<string, unknown>>, env: Environment): Record<string, unknown> {
  const out: Record<string, unknown> = { ...tree };
  const section = (name: string): Record<string, unknown> => {
    const current = out[name];
    const copy = current !== null && typeof current === 'object' && !Array.isArray(current) ? { ...(current as Record<string, unknown>) } : {};
    out[name] = copy;
    return copy;
  };
  const set = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };

  const host = set('HOST');
  const port = set('PORT');
  if (host !== undefined || port !== undefined) {
    const server = section('server');
    if (host !== undefined) server.host = host;
    if (port !== undefined) server.port = port;
  }
  const level = set('LOG_LEVEL');
  if (level !== undefined) section('logging').level = level;

  const redisUrl = set('REDIS_URL');
  if (redisUrl !== undefined && out.redis === undefined) out.redis = { url: redisUrl };
  const databaseUrl = set('DATABASE_URL');
  if (databaseUrl !== undefined && out.database === undefined) out.database = { url: databaseUrl };

  const metricsToken = set('METRICS_TOKEN');
  const metricsIps = set('METRICS_ALLOWED_IPS');
  if (metricsToken !== undefined || metricsIps !== undefined) {
    const metrics = section('metrics');
    if (metricsToken !== undefined && metrics.token === undefined) metrics.token = metricsToken;
    if (metricsIps !== undefined && metrics.allowedIps === undefined) {
      metrics.allowedIps = metricsIps.split(',').map((ip) => ip.trim()).filter((ip) => ip !== '');
    }
  }
  return out;
}
