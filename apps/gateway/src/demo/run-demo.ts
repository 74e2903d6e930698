import { createApiKeyAdmin } from 'bulwark/auth';
import type { CliIo } from '../cli.js';
import { adminBuiltins } from '../admin/register.js';
import { runUntilSignal, type SignalSource } from '../lifecycle/signals.js';
import { startGateway } from '../lifecycle/start.js';
import { demoConfig } from './demo-config.js';
import { startDemoUpstream } from './demo-upstream.js';
import { nextSteps } from './next-steps.js';

/**
 * `bulwark start --demo` (`npm start`): the gateway on embedded defaults — memory stores, PGlite in
 * BULWARK_DATA_DIR (`.bulwark/`) — with the demo upstream beside it, a fresh admin key and a
 * signing key for this run, and copy-paste commands to try. Development only: refused with
 * NODE_ENV=production.
 */
export async function runDemo(options: { readonly io: CliIo; readonly cwd: string; readonly signals: SignalSource }): Promise<number> {
  const { io, cwd, signals } = options;
  if (io.env['NODE_ENV'] === 'production') {
    io.stderr.write('bulwark start --demo: the demo is for development; it refuses to run with NODE_ENV=production.\n');
    return 1;
  }
  const upstream = await startDemoUpstream();
  const env = { ...io.env, NODE_ENV: io.env['NODE_ENV'] ?? 'development' };
  const started = await startGateway({ env, cwd, config: demoConfig(upstream.url, env), builtins: adminBuiltins });
  if (!started.ok) {
    await upstream.close();
    io.stderr.write(`bulwark start --demo: not started.\n\n${started.message}\n`);
    return 1;
  }
  const { running } = started;
  try {
    const { keyStore, audit, database, revocation } = running.services;
    // Created like the admin API does: audited, in the same transaction as the key.
    const admin = createApiKeyAdmin({ store: keyStore, audit, sql: database, revocation });
    const actor = { actor: 'system:demo' };
    const keys = {
      admin: await admin.create({ name: 'demo admin', tenant: 'demo', env: 'test', scopes: ['admin', 'demo'] }, actor),
      signer: await admin.create({ name: 'demo signer', tenant: 'demo', env: 'test', scopes: ['demo'], signing: { algorithm: 'hmac-sha256' } }, actor),
    };
    io.stdout.write(nextSteps({ gatewayUrl: running.url, upstreamUrl: upstream.url, adminKey: keys.admin.key, signingKeyId: keys.signer.record.id, signingSecret: keys.signer.signingSecret ?? '' }));
  } catch (error) {
    io.stderr.write(`bulwark start --demo: could not create the demo keys: ${(error as Error).message}\n`);
    await running.shutdown();
    await upstream.close();
    return 1;
  }
  const code = await runUntilSignal(running, signals);
  await upstream.close();
  return code;
}
