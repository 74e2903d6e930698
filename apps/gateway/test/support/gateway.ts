import { Writable } from 'node:stream';
import { generateMasterKey } from 'bulwark/crypto';
import { createLogger } from 'bulwark/observability';
import { request as undiciRequest, type Dispatcher } from 'undici';
import { adminBuiltins } from '../../src/admin/register.js';
import { validateConfigTree } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/resolve.js';
import type { DatabaseChoice } from '../../src/lifecycle/services.js';
import { startGateway, type RunningGateway } from '../../src/lifecycle/start.js';

/** Every log line the gateway wrote, parsed (tests assert that secrets and stacks never appear). */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];
  private readonly waiters: { readonly message: string; readonly from: number; readonly resolve: (line: Record<string, unknown>) => void }[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      this.raw.push(line);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      this.lines.push(parsed);
      for (const waiter of this.waiters.filter((candidate) => candidate.message === parsed.msg)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(parsed);
      }
    }
    callback();
  }

  /** Resolves with the next line whose message is `message` (written after this call). */
  next(message: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.waiters.push({ message, from: this.lines.length, resolve }));
  }
}

export interface TestGateway {
  readonly url: string;
  readonly running: RunningGateway;
  readonly logs: LogCapture;
  /** Creates an API key with these scopes (tenant `t1` unless given). */
  createKey(scopes: readonly string[], options?: { readonly tenant?: string; readonly signing?: boolean }): Promise<{ readonly key: string; readonly id: string; readonly signingSecret?: string }>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  /** A config tree (validated like a file) or a resolved config. */
  readonly config: unknown;
  readonly env?: Readonly<Record<string, string>>;
  readonly database?: DatabaseChoice;
  readonly configPath?: string;
}

/** The environment every test gateway starts with: a fresh master key, test mode. */
export function testEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { NODE_ENV: 'test', BULWARK_MASTER_KEY: generateMasterKey(), LOG_LEVEL: 'info', ...extra };
}

/** The tree with the listener on loopback and a free port (the environment cannot say port 0). */
export function onFreePort(tree: unknown): Record<string, unknown> {
  const object = tree as Record<string, unknown>;
  const server = (object.server ?? {}) as Record<string, unknown>;
  return { ...object, server: { ...server, host: '127.0.0.1', port: 0 } };
}

/** Validates a config tree against an environment, failing the test with every problem. */
export function configFrom(tree: unknown, env: Readonly<Record<string, string>>): GatewayConfig {
  const result = validateConfigTree(tree, env);
  if (!result.ok) throw new Error(`test config invalid:\n${result.problems.map((problem) => `${problem.path}: ${problem.message}`).join('\n')}`);
  return result.config;
}

/**
 * Starts a real gateway (admin API included) on a free port. API keys and the audit log are
 * in-process unless `database` says otherwise (PGlite takes seconds to start on a busy machine).
 */
export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const env = testEnv(options.env);
  const logs = new LogCapture();
  const logger = createLogger({ level: 'debug', destination: logs, base: null });
  const config = options.configPath === undefined ? configFrom(onFreePort(options.config), env) : undefined;
  const started = await startGateway({
    env,
    cwd: process.cwd(),
    ...(config === undefined ? { configPath: options.configPath } : { config }),
    logger,
    database: options.database ?? { inProcess: true },
    builtins: adminBuiltins,
  });
  if (!started.ok) throw new Error(`test gateway did not start:\n${started.message}`);
  const { running } = started;
  return {
    url: `http://127.0.0.1:${running.port}`,
    running,
    logs,
    async createKey(scopes, keyOptions = {}) {
      const created = await running.services.keyStore.create({ name: 'test', tenant: keyOptions.tenant ?? 't1', env: 'test', scopes, ...(keyOptions.signing === true ? { signing: { algorithm: 'hmac-sha256' as const } } : {}) });
      return { key: created.key, id: created.record.id, ...(created.signingSecret === undefined ? {} : { signingSecret: created.signingSecret }) };
    },
    close: () => running.shutdown(),
  };
}

export interface TestResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

/** One request through undici, the body read as text. */
export async function send(url: string, options: { readonly method?: string; readonly headers?: Record<string, string>; readonly body?: string | Buffer } = {}): Promise<TestResponse> {
  const response = await undiciRequest(url, { method: (options.method ?? 'GET') as Dispatcher.HttpMethod, headers: options.headers ?? {}, body: options.body ?? null });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers as Record<string, string | string[] | undefined>,
    text,
    json: <T>() => JSON.parse(text) as T,
  };
}
