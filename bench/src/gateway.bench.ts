/**
 * The gateway against the stacks a team would otherwise assemble in front of a service, all
 * proxying to the same upstream and measured with autocannon over real HTTP.
 *
 *   npm run bench -- gateway
 *
 * Targets (each in its own process, pinned to a CPU of its own; the upstream, a private Redis and
 * autocannon share the others — see support/cpu-pinning.ts):
 * - Bulwark: API-key auth, a Redis-backed rate limit by key, security headers, CORS, access logs
 *   (JSON, to /dev/null) and Prometheus metrics;
 * - Fastify + @fastify/http-proxy + @fastify/helmet + @fastify/cors + @fastify/rate-limit (Redis),
 *   with an API-key check in an onRequest hook and pino request logs to /dev/null;
 * - Express + http-proxy-middleware + helmet + cors + express-rate-limit with rate-limit-redis,
 *   with the same API-key check and a pino access log to /dev/null;
 * - a bare @fastify/http-proxy (no protection at all): the ceiling.
 *
 * Every request carries the API key and an allowed Origin; the limits are set far above the load, so
 * every answer is a 200 from the upstream (non-2xx answers are counted and reported).
 * Targets: ≥ 1.3× the Fastify stack's requests/s with a p99 no worse, ≥ 3× the Express stack's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startRedisServer } from '../../test/system/support/redis-server.js';
import { cpuPlan, describePlan, pinned, pinPrefix, pinSelf, type CpuPlan } from './support/cpu-pinning.js';
import { machineLine, redisServerVersion, versionOf } from './support/report.js';

const require = createRequire(import.meta.url);

/** The slices of express, cors and autocannon used here (loaded through require: CommonJS, untyped or default-exported). */
type Next = () => void;
type Handler = (request: IncomingMessage, response: ServerResponse & { status(code: number): { json(body: unknown): void } }, next: Next) => void;
interface ExpressApp {
  disable(setting: string): void;
  use(handler: Handler | unknown): void;
  use(path: string, handler: unknown): void;
  listen(port: number, host: string): Server;
}
interface AutocannonResult {
  readonly requests: { readonly average: number };
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly non2xx: number;
  readonly errors: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 50;
const ORIGIN = 'https://app.example.com';
/** Set for the servers by the run (a private redis-server), or by the user to use another Redis. */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const HUGE_LIMIT = 50_000_000;
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;

type Target = 'bulwark' | 'fastify-stack' | 'express-stack' | 'bare-proxy';
const TARGETS: readonly Target[] = ['bulwark', 'fastify-stack', 'express-stack', 'bare-proxy'];
const LABELS: Readonly<Record<Target, string>> = {
  bulwark: 'Bulwark gateway',
  'fastify-stack': 'Fastify + http-proxy + helmet + cors + rate-limit (Redis)',
  'express-stack': 'Express + http-proxy-middleware + helmet + cors + express-rate-limit (rate-limit-redis)',
  'bare-proxy': 'bare @fastify/http-proxy (no protection)',
};

interface Ready {
  readonly port: number;
  readonly apiKey: string;
}

// ---------------------------------------------------------------------------------------------
// Child processes: the upstream and each target serve in their own process.

async function serveUpstream(): Promise<Ready> {
  const body = JSON.stringify({ ok: true, items: [1, 2, 3] });
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, apiKey: '' };
}

async function serveBulwark(upstreamUrl: string): Promise<Ready> {
  const { pino } = await import('pino');
  const { generateMasterKey } = await import('bulwark/crypto');
  const { createLogger } = await import('bulwark/observability');
  const { validateConfigTree } = await import('../../apps/gateway/src/config/load.js');
  const { startGateway } = await import('../../apps/gateway/src/lifecycle/start.js');
  const env = { NODE_ENV: 'production', BULWARK_MASTER_KEY: generateMasterKey(), METRICS_ALLOWED_IPS: 'loopback', LOG_LEVEL: 'info' };
  const tree = {
    server: { host: '127.0.0.1', port: 0 },
    redis: { url: REDIS_URL, keyPrefix: `bench-${RUN_ID}:`, timeoutMs: 200 },
    upstreams: { app: { url: upstreamUrl, connections: 64 } },
    routes: [
      {
        name: 'api',
        match: { prefix: '/api' },
        upstream: 'app',
        auth: { type: 'apiKey' },
        rateLimits: [{ name: 'per-key', limit: HUGE_LIMIT, window: '1m', by: 'apiKey', algorithm: 'gcra' }],
        cors: { origins: [ORIGIN] },
      },
    ],
  };
  const validated = validateConfigTree(tree, env);
  if (!validated.ok) throw new Error(JSON.stringify(validated.problems));
  const logger = createLogger({ level: 'info', destination: pino.destination({ dest: '/dev/null', sync: false }) });
  const started = await startGateway({ env, cwd: process.cwd(), config: validated.config, logger, database: { inProcess: true } });
  if (!started.ok) throw new Error(started.message);
  const created = await started.running.services.keyStore.create({ name: 'bench', tenant: 'bench', scopes: [] });
  return { port: started.running.port, apiKey: created.key };
}

/** The API-key check a team writes by hand: a constant-time compare against the one key. */
async function handWrittenKeyCheck(): Promise<{ key: string; check: (presented: unknown) => boolean }> {
  const { timingSafeEqual, randomBytes } = await import('node:crypto');
  const key = `bw_live_${randomBytes(32).toString('base64url')}`;
  const expected = Buffer.from(key);
  return { key, check: (presented) => typeof presented === 'string' && presented.length === key.length && timingSafeEqual(Buffer.from(presented), expected) };
}

async function serveFastifyStack(upstreamUrl: string, bare: boolean): Promise<Ready> {
  const { default: Fastify } = await import('fastify');
  const { default: proxy } = await import('@fastify/http-proxy');
  const { pino } = await import('pino');
  const { key, check } = await handWrittenKeyCheck();
  const app = Fastify(bare ? { logger: false } : { loggerInstance: pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false })) });
  if (!bare) {
    const { Redis } = await import('ioredis');
    const { default: helmet } = await import('@fastify/helmet');
    const { default: cors } = await import('@fastify/cors');
    const { default: rateLimit } = await import('@fastify/rate-limit');
    await app.register(helmet);
    await app.register(cors, { origin: [ORIGIN] });
    app.addHook('onRequest', async (request, reply) => {
      if (!check(request.headers['x-api-key'])) await reply.code(401).send({ error: 'unauthorized' });
    });
    await app.register(rateLimit, {
      max: HUGE_LIMIT,
      timeWindow: 60_000,
      redis: new Redis(REDIS_URL, { connectTimeout: 500, maxRetriesPerRequest: 1 }),
      nameSpace: `bench-${RUN_ID}-fastify:`,
      keyGenerator: (request) => String(request.headers['x-api-key']),
    });
  }
  await app.register(proxy, { upstream: upstreamUrl, prefix: '/api', rewritePrefix: '/api' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { port: (app.server.address() as AddressInfo).port, apiKey: key };
}

async function serveExpressStack(upstreamUrl: string): Promise<Ready> {
  const express = require('express') as () => ExpressApp;
  const { default: helmet } = await import('helmet');
  const cors = require('cors') as (options: { origin: readonly string[] }) => Handler;
  const { rateLimit } = await import('express-rate-limit');
  const { RedisStore } = await import('rate-limit-redis');
  const { createProxyMiddleware } = await import('http-proxy-middleware');
  const { Redis } = await import('ioredis');
  const { pino } = await import('pino');
  const { key, check } = await handWrittenKeyCheck();
  const log = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
  const redis = new Redis(REDIS_URL, { connectTimeout: 500, maxRetriesPerRequest: 1 });
  const app = express();
  app.disable('x-powered-by');
  const accessLog: Handler = (request, response, next) => {
    const started = performance.now();
    response.on('finish', () => log.info({ method: request.method, url: request.url, status: response.statusCode, ms: performance.now() - started }, 'request'));
    next();
  };
  app.use(accessLog);
  app.use(helmet());
  app.use(cors({ origin: [ORIGIN] }));
  const apiKeyCheck: Handler = (request, response, next) => {
    if (!check(request.headers['x-api-key'])) {
      response.status(401).json({ error: 'unauthorized' });
      return;
    }
    next();
  };
  app.use(apiKeyCheck);
  app.use(
    rateLimit({
      windowMs: 60_000,
      limit: HUGE_LIMIT,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      keyGenerator: (request: IncomingMessage) => String(request.headers['x-api-key']),
      store: new RedisStore({ prefix: `bench-${RUN_ID}-express:`, sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as never }),
    }),
  );
  app.use('/api', createProxyMiddleware({ target: `${upstreamUrl}/api` }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return { port: (server.address() as AddressInfo).port, apiKey: key };
}

async function serve(role: string, upstreamUrl: string): Promise<void> {
  const ready =
    role === 'upstream'
      ? await serveUpstream()
      : role === 'bulwark'
        ? await serveBulwark(upstreamUrl)
        : role === 'fastify-stack'
          ? await serveFastifyStack(upstreamUrl, false)
          : role === 'bare-proxy'
            ? await serveFastifyStack(upstreamUrl, true)
            : await serveExpressStack(upstreamUrl);
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  // A clean exit on SIGINT, so that `node --cpu-prof` can write its profile when profiling a target.
  process.once('SIGINT', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// The driver.

interface Child {
  readonly process: ChildProcess;
  readonly ready: Ready;
}

async function spawnRole(role: string, redisUrl: string, cpus: string | undefined, upstreamUrl = ''): Promise<Child> {
  const [command, args] = pinned(cpus, process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve', role, upstreamUrl]);
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production', REDIS_URL: redisUrl },
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${role} exited with ${String(code)} before it was ready`)));
    lines.once('line', (line) => resolve(JSON.parse(line) as Ready));
  });
  return { process: child, ready };
}

function stop(child: Child): Promise<void> {
  return new Promise((resolve) => {
    child.process.once('exit', () => resolve());
    child.process.kill('SIGKILL');
  });
}

interface Measured {
  readonly rps: number;
  readonly p99Ms: number;
  readonly p50Ms: number;
  readonly non2xx: number;
  readonly errors: number;
}

async function load(port: number, apiKey: string, seconds: number): Promise<Measured> {
  const autocannon = require('autocannon') as Autocannon;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/api/items`,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'x-api-key': apiKey, origin: ORIGIN, accept: 'application/json' },
  });
  return { rps: result.requests.average, p99Ms: result.latency.p99, p50Ms: result.latency.p50, non2xx: result.non2xx, errors: result.errors };
}

/** Rounds of interleaved measurements; each target keeps its best round (the machine is shared). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function main(): Promise<void> {
  let plan = cpuPlan();
  if (plan !== undefined && !pinSelf(plan.load)) plan = undefined;
  // A private Redis on the load generator's CPUs, unless the user named one.
  const redis = process.env.REDIS_URL === undefined ? await startRedisServer({ commandPrefix: pinPrefix(plan?.load) }) : undefined;
  const redisUrl = redis?.url ?? REDIS_URL;
  const upstream = await spawnRole('upstream', redisUrl, plan?.load);
  const upstreamUrl = `http://127.0.0.1:${upstream.ready.port}`;
  const children = new Map<Target, Child>();
  const results = new Map<Target, Measured>();
  try {
    for (const target of TARGETS) {
      const child = await spawnRole(target, redisUrl, plan?.server, upstreamUrl);
      children.set(target, child);
      await load(child.ready.port, child.ready.apiKey, 1); // warm-up: JIT, keep-alive pools, Redis scripts
    }
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const target of TARGETS) {
        const child = children.get(target);
        if (child === undefined) continue;
        const measured = await load(child.ready.port, child.ready.apiKey, DURATION_SECONDS);
        const best = results.get(target);
        if (best === undefined || measured.rps > best.rps) results.set(target, measured);
      }
    }
  } finally {
    await Promise.all([...children.values(), upstream].map(stop));
    await redis?.stop();
  }
  report(results, plan, redis === undefined ? `Redis at ${new URL(redisUrl).host}` : `a private redis-server ${redisServerVersion()}`);
}

function report(results: ReadonlyMap<Target, Measured>, plan: CpuPlan | undefined, redisLine: string): void {
  const bulwark = results.get('bulwark');
  const lines = [
    '## Gateway: Bulwark vs the stacks it replaces',
    '',
    `\`npm run bench -- gateway\` — autocannon, ${CONNECTIONS} connections, ${DURATION_SECONDS} s per target and round after a 1 s warm-up, ${ROUNDS} interleaved rounds, best round kept; each server and the upstream in its own process; ${describePlan(plan)}; ${redisLine}.`,
    '',
    machineLine(),
    '',
    `Versions: fastify ${versionOf('fastify')}, @fastify/http-proxy ${versionOf('@fastify/http-proxy')}, @fastify/helmet ${versionOf('@fastify/helmet')}, @fastify/cors ${versionOf('@fastify/cors')}, @fastify/rate-limit ${versionOf('@fastify/rate-limit')}, express ${versionOf('express')}, http-proxy-middleware ${versionOf('http-proxy-middleware')}, helmet ${versionOf('helmet')}, cors ${versionOf('cors')}, express-rate-limit ${versionOf('express-rate-limit')}, undici ${versionOf('undici')}, autocannon ${versionOf('autocannon')}.`,
    '',
    '| target | req/s | p50 ms | p99 ms | Bulwark ÷ target (req/s) | non-2xx | errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const target of TARGETS) {
    const measured = results.get(target);
    if (measured === undefined) continue;
    const ratio = bulwark === undefined ? Number.NaN : bulwark.rps / measured.rps;
    lines.push(`| ${LABELS[target]} | ${measured.rps.toFixed(0)} | ${measured.p50Ms} | ${measured.p99Ms} | ${ratio.toFixed(2)}x | ${measured.non2xx} | ${measured.errors} |`);
  }
  const fastify = results.get('fastify-stack');
  const expressStack = results.get('express-stack');
  const bare = results.get('bare-proxy');
  if (bulwark !== undefined && fastify !== undefined && expressStack !== undefined && bare !== undefined) {
    const vsFastify = bulwark.rps / fastify.rps;
    const vsExpress = bulwark.rps / expressStack.rps;
    const met = vsFastify >= 1.3 && bulwark.p99Ms <= fastify.p99Ms && vsExpress >= 3;
    lines.push(
      '',
      `Verdict: ${met ? 'target met' : 'target NOT met'} — ${vsFastify.toFixed(2)}x the Fastify stack (target ≥ 1.3x, p99 ${bulwark.p99Ms} ms vs ${fastify.p99Ms} ms), ${vsExpress.toFixed(2)}x the Express stack (target ≥ 3x); ${(bulwark.rps / bare.rps * 100).toFixed(0)}% of a bare @fastify/http-proxy.`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

const serveIndex = process.argv.indexOf('--serve');
if (serveIndex === -1) {
  await main();
} else {
  await serve(process.argv[serveIndex + 1] ?? '', process.argv[serveIndex + 2] ?? '');
}
