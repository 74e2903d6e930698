import type { EnvSource } from 'bulwark/config';
import { validateConfigTree } from '../config/load.js';
import { formatProblems } from '../config/problems.js';
import type { GatewayConfig } from '../config/resolve.js';

/**
 * The demo's config, built in code and validated like a file: a public status route, `/api` behind
 * API keys and `/signed` behind RFC 9421 signatures, both to the demo upstream with the prefix
 * stripped. HOST and PORT apply as usual.
 */
export function demoConfig(upstreamUrl: string, env: EnvSource): GatewayConfig {
  const tree = {
    upstreams: { demo: { url: upstreamUrl, required: true, healthPath: '/status' } },
    routes: [
      { name: 'status', match: { path: '/status', methods: ['GET'] }, upstream: 'demo', public: true, rateLimits: [{ name: 'status-per-ip', limit: 60, window: '1m', by: 'ip' }] },
      {
        name: 'api',
        match: { prefix: '/api' },
        upstream: 'demo',
        stripPrefix: true,
        auth: { type: 'apiKey', scopes: ['demo'] },
        bodyLimit: '64kb',
        rateLimits: [{ name: 'demo-per-key', limit: 100, window: '1m', by: 'apiKey' }],
      },
      { name: 'signed', match: { prefix: '/signed' }, upstream: 'demo', stripPrefix: true, auth: { type: 'signature', scopes: ['demo'] }, bodyLimit: '64kb' },
    ],
  };
  const result = validateConfigTree(tree, env);
  if (!result.ok) throw new Error(`the demo config is invalid (a bug):\n${formatProblems(result.problems)}`);
  return result.config;
}
