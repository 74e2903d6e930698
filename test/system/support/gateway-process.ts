import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { exited, stopChild, track, type Exit } from './children.js';
import { metricsFrom, type Metrics } from './metrics.js';

/**
 * A gateway as a user runs it: a real `bulwark start --config <file>` child process from the
 * TypeScript sources (`node --conditions=bulwark-source --import tsx apps/gateway/src/cli.ts`),
 * configured through its file and environment only. Configs written by the suites say `port: 0`
 * (the environment's PORT must be 1–65535), and the bound port is read from the "listening" log
 * line; the examples get a free port through PORT. Its JSON log is parsed as it arrives; access-log lines are only counted
 * by status (a long run would otherwise hold millions of lines).
 */

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(REPO_ROOT, 'apps/gateway/src/cli.ts');

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface GatewayProcess {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  readonly port: number;
  readonly configPath: string;
  /** Every log line except access-log lines, in order. */
  readonly lines: readonly LogLine[];
  /** Access-log lines counted by status (`"200"`, `"429"` …): the server's own account. */
  readonly accessStatuses: Readonly<Record<string, number>>;
  /** Everything the process wrote to stderr (a JSON logger writes nothing there). */
  stderr(): string;
  alive(): boolean;
  readonly exit: Promise<Exit>;
  /** Resolves with the first log line (from now on, or already seen when `seen` is true) matching. */
  nextLog(predicate: (line: LogLine) => boolean, options?: { readonly timeoutMs?: number; readonly seen?: boolean }): Promise<LogLine>;
  /** Scrapes /metrics (loopback is allowed by METRICS_ALLOWED_IPS). */
  metrics(): Promise<Metrics>;
  /** Polls /health/ready until it answers `status` (process start-up and recovery checks only). */
  waitReady(status?: 200 | 503, timeoutMs?: number): Promise<void>;
  /** SIGTERM (graceful drain) and wait, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<Exit>;
  /** SIGKILL now: a crash with whatever is in flight. */
  kill(): Promise<Exit>;
}

export interface GatewayProcessOptions {
  readonly name: string;
  /** The config file's text (YAML). */
  readonly configYaml: string;
  /** Directory for the config file and the data directory. */
  readonly dir: string;
  /** BULWARK_MASTER_KEY. */
  readonly masterKey: string;
  /** More environment (REDIS_URL, DATABASE_URL, upstream URLs …), over the defaults. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long start-up (listening and ready) may take on a loaded machine. @default 60_000 */
  readonly startTimeoutMs?: number;
  /** Wait for /health/ready 200 before resolving. @default true */
  readonly waitReady?: boolean;
  /** Bearer token for /metrics, when the config requires one. @default none */
  readonly metricsToken?: string | undefined;
  /** Headers of the suite's own probes (/health/ready, /metrics): what a load balancer adds. @default none */
  readonly probeHeaders?: Readonly<Record<string, string>> | undefined;
}

const MAX_STDERR = 1 << 20;

/** Starts a gateway process and resolves once it listens (and, by default, is ready). */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const configPath = join(options.dir, `${options.name}.yaml`);
  await writeFile(configPath, options.configYaml);
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    NODE_ENV: 'production',
    BULWARK_MASTER_KEY: options.masterKey,
    METRICS_ALLOWED_IPS: 'loopback',
    HOST: '127.0.0.1',
    BULWARK_DATA_DIR: join(options.dir, `${options.name}-data`),
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const child: ChildProcess = spawn(process.execPath, ['--conditions=bulwark-source', '--import', 'tsx', CLI, 'start', '--config', configPath], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  const exit = exited(child);

  const lines: LogLine[] = [];
  const accessStatuses: Record<string, number> = {};
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let pending = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      const text = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
      if (!text.startsWith('{')) continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      if (line.msg === 'request') {
        const status = String(line['status']);
        accessStatuses[status] = (accessStatuses[status] ?? 0) + 1;
        continue;
      }
      lines.push(line);
      events.emit('line', line);
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (stderr.length < MAX_STDERR) stderr += chunk;
  });

  const nextLog: GatewayProcess['nextLog'] = (predicate, { timeoutMs = 30_000, seen = false } = {}) => {
    if (seen) {
      const found = lines.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const onLine = (line: LogLine): void => {
        if (!predicate(line)) return;
        cleanup();
        resolve(line);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`gateway ${options.name}: no matching log line within ${timeoutMs} ms; stderr:\n${stderr.slice(-2000)}`));
      }, timeoutMs);
      const onExit = (): void => {
        cleanup();
        reject(new Error(`gateway ${options.name} exited (code ${String(child.exitCode)}, signal ${String(child.signalCode)}) while a log line was awaited; stderr:\n${stderr.slice(-4000)}\nlast lines:\n${lines.slice(-5).map((line) => JSON.stringify(line)).join('\n')}`));
      };
      function cleanup(): void {
        clearTimeout(timer);
        events.off('line', onLine);
        child.off('exit', onExit);
      }
      events.on('line', onLine);
      child.once('exit', onExit);
    });
  };

  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  let listening: LogLine;
  try {
    listening = await nextLog((line) => line.msg === 'bulwark gateway listening', { timeoutMs: startTimeoutMs, seen: true });
  } catch (error) {
    await stopChild(child, 'SIGKILL');
    throw error;
  }
  const url = String(listening['url']);
  const port = Number(new URL(url).port);

  const gateway: GatewayProcess = {
    name: options.name,
    pid: child.pid ?? -1,
    url,
    port,
    configPath,
    lines,
    accessStatuses,
    stderr: () => stderr,
    alive: () => child.exitCode === null && child.signalCode === null,
    exit,
    nextLog,
    async metrics() {
      const response = await fetch(`${url}/metrics`, { headers: { ...options.probeHeaders, ...(options.metricsToken === undefined ? {} : { authorization: `Bearer ${options.metricsToken}` }) } });
      if (response.status !== 200) throw new Error(`gateway ${options.name}: /metrics answered ${response.status}`);
      return metricsFrom(await response.text());
    },
    async waitReady(status = 200, timeoutMs = startTimeoutMs) {
      const deadline = performance.now() + timeoutMs;
      let last = 'no answer';
      while (performance.now() < deadline) {
        if (!gateway.alive()) throw new Error(`gateway ${options.name} exited while waiting for readiness; stderr:\n${stderr.slice(-4000)}`);
        try {
          const response = await fetch(`${url}/health/ready`, { headers: { ...options.probeHeaders }, signal: AbortSignal.timeout(5000) });
          last = `${response.status} ${await response.text()}`;
          if (response.status === status) return;
        } catch (error) {
          last = (error as Error).message;
        }
        // Start-up and recovery polling only: a short wait between probes.
        await sleep(100);
      }
      throw new Error(`gateway ${options.name}: /health/ready did not answer ${status} within ${timeoutMs} ms (last: ${last})`);
    },
    stop: (graceMs = 15_000) => stopChild(child, 'SIGTERM', graceMs),
    kill: () => stopChild(child, 'SIGKILL'),
  };
  if (options.waitReady ?? true) {
    try {
      await gateway.waitReady(200);
    } catch (error) {
      await stopChild(child, 'SIGKILL');
      throw error;
    }
  }
  return gateway;
}

/** Log lines at error level or above (pino: 50 error, 60 fatal). */
export function errorLines(gateway: GatewayProcess): LogLine[] {
  return gateway.lines.filter((line) => line.level >= 50);
}

/** What a crashed or misbehaving process leaves behind: evidence of unhandled rejections or exceptions. */
export function crashEvidence(gateway: GatewayProcess): string[] {
  const evidence: string[] = [];
  if (!gateway.alive()) evidence.push(`process exited`);
  if (/unhandled|uncaught|UnhandledPromiseRejection|ERR_UNHANDLED_REJECTION/i.test(gateway.stderr())) evidence.push(`stderr: ${gateway.stderr().slice(0, 2000)}`);
  if (gateway.stderr().trim() !== '') evidence.push(`stderr is not empty: ${gateway.stderr().slice(0, 500)}`);
  return evidence;
}
