/**
 * Session validation: Bulwark's Redis session store against express-session + connect-redis 9 (the
 * stack an Express team would otherwise pick), on the same Redis.
 *
 *   npm run bench -- session
 *
 * What one "validation" is — each library's whole per-request work for a request carrying a valid
 * session cookie, through its real middleware code:
 * - Bulwark: `createSessionHttp().load()` (what `createExpressSessions().middleware()` runs): read the
 *   `__Host-sid` cookie, hash the id, resolve the client IP, compute the IP binding and the device
 *   fingerprint, one Lua script (lookup, lockout check, expiry, IP and fingerprint checks, idle
 *   touch), safe-parse the data. Default options: IP binding and fingerprint on.
 * - express-session (resave: false, saveUninitialized: false, maxAge 15 min) on connect-redis 9 and
 *   node-redis: parse the Cookie header, unsign the id (HMAC), GET + JSON.parse, build the Session,
 *   and at the end of the response `touch` (EXPIRE) — what its `res.end` hook does.
 *
 * Both run against one private redis-server started for the run (same Redis for both; nobody
 * else's traffic in its CPU figures), 1000 sessions each, used round-robin.
 *
 * Level A (the verdict) drives both middlewares directly with in-memory request/response objects,
 * 64 requests in flight, in interleaved rounds; each round's ratio is taken against express-session
 * measured in the same round, and the median of the rounds is reported (the machine is shared, so
 * a single long run mostly measures the neighbours). CPU per validation is given for the Node
 * process and for Redis (from its INFO CPU counters). Level B puts each behind a minimal Express app
 * in a child process under autocannon: Express's own per-request work is then in both figures.
 *
 * Target: level A throughput ≥ 1.5× express-session + connect-redis.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { RedisStore } from 'connect-redis';
import express from 'express';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { createKeyring, generateMasterKey, parseMasterKey } from 'bulwark/crypto';
import { createExpressSessions } from 'bulwark/express';
import { createMetricsRegistry } from 'bulwark/observability';
import { createRedisSessionStore, createSessionHttp } from 'bulwark/session';
import type { HeaderBag, SecureSessionStore } from 'bulwark/session';
import { startRedisServer } from '../../test/system/support/redis-server.js';
import { formatOps, machineLine, versionOf } from './support/report.js';

const SESSIONS = 1000;
const IN_FLIGHT = 64;
const ROUNDS = 8;
const ROUND_MS = 1500;
const HTTP_ROUNDS = 5;
const HTTP_SECONDS = 2;
const HTTP_CONNECTIONS = 32;
const TARGET = 1.5;
const CLIENT_IP = '127.0.0.1';
const SECRET = 'express-session secret for the benchmark, long enough';
/** The headers a browser sends and the fingerprint covers; every benchmark request carries them. */
const BROWSER: Record<string, string> = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'accept-language': 'en-GB,en;q=0.5',
  'accept-encoding': 'gzip, deflate, br, zstd',
};

/** The slices of express-session's and autocannon's APIs used here (neither ships types). */
type Middleware = (req: unknown, res: unknown, next: (error?: unknown) => void) => void;
type ExpressSession = (options: Record<string, unknown>) => Middleware;
interface AutocannonResult {
  readonly requests: { readonly average: number };
  readonly latency: { readonly p99: number };
  readonly non2xx: number;
  readonly errors: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

const require = createRequire(import.meta.url);
const session = require('express-session') as ExpressSession;
const autocannon = require('autocannon') as Autocannon;
// express-session's own copy of cookie-signature, so its cookies are signed exactly as it expects.
const signature = createRequire(require.resolve('express-session'))('cookie-signature') as { sign(value: string, secret: string): string };

// --- the private Redis ---------------------------------------------------------------------------

/** Redis's own CPU time so far, in µs (user + system, from INFO CPU). */
async function redisCpuMicros(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  const read = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
  return (read('used_cpu_user') + read('used_cpu_sys')) * 1e6;
}

// --- the two stacks --------------------------------------------------------------------------------

interface Fixture {
  readonly ioredis: Redis;
  readonly nodeRedis: { quit(): Promise<unknown> };
  readonly bulwarkStore: SecureSessionStore;
  /** The same sessions, with the idle deadline written on every validation (`touchIntervalMs: 0`). */
  readonly bulwarkEagerStore: SecureSessionStore;
  readonly connectRedis: RedisStore;
  readonly bulwarkCookies: readonly string[];
  readonly expressCookies: readonly string[];
}

/** Both stores on one Redis, each with {@link SESSIONS} live sessions of distinct users. */
async function fixture(port: number): Promise<Fixture> {
  const ioredis = new Redis({ host: '127.0.0.1', port });
  const nodeRedis = createClient({ url: `redis://127.0.0.1:${port}` });
  await nodeRedis.connect();
  const keyring = createKeyring({ current: parseMasterKey(generateMasterKey()) });
  const common = { client: ioredis, keyring, keyPrefix: 'bw:' } as const;
  const bulwarkStore = createRedisSessionStore({ ...common, registry: createMetricsRegistry({ defaultMetrics: false }) });
  const bulwarkEagerStore = createRedisSessionStore({ ...common, registry: createMetricsRegistry({ defaultMetrics: false }), touchIntervalMs: 0 });
  const connectRedis = new RedisStore({ client: nodeRedis, prefix: 'es:' });
  const bulwarkCookies: string[] = [];
  const expressCookies: string[] = [];
  const expires = new Date(Date.now() + 15 * 60_000);
  for (let index = 0; index < SESSIONS; index += 1) {
    const data = { role: 'user', name: `User ${index}`, locale: 'en-GB' };
    const created = await bulwarkStore.create({ tenant: 'bench', userId: `user-${index}`, data, context: { ip: CLIENT_IP, headers: BROWSER } });
    if (!created.ok) throw new Error('could not create a Bulwark session');
    bulwarkCookies.push(`__Host-sid=${created.token}`);
    const sid = `bench-${index}-${created.session.id.slice(0, 24)}`;
    await connectRedis.set(sid, { cookie: { originalMaxAge: 15 * 60_000, expires, httpOnly: true, path: '/' }, userId: `user-${index}`, ...data } as never);
    expressCookies.push(`connect.sid=${encodeURIComponent(`s:${signature.sign(sid, SECRET)}`)}`);
  }
  return { ioredis, nodeRedis, bulwarkStore, bulwarkEagerStore, connectRedis, bulwarkCookies, expressCookies };
}

const expressSessionOptions = (store: RedisStore) => ({ store, secret: SECRET, resave: false, saveUninitialized: false, cookie: { maxAge: 15 * 60_000, secure: false } });

// --- level A: the middlewares, no sockets -------------------------------------------------------

/** A response object with what express-session's hooks (on-headers, its `end` proxy) call. */
function fakeResponse(done: () => void) {
  const headers = new Map<string, unknown>();
  return {
    _header: null as string | null,
    statusCode: 200,
    getHeader: (name: string) => headers.get(name.toLowerCase()),
    setHeader: (name: string, value: unknown) => void headers.set(name.toLowerCase(), value),
    writeHead(status: number) {
      this.statusCode = status;
      this._header = `HTTP/1.1 ${status}`;
      return this;
    },
    _implicitHeader() {
      this.writeHead(this.statusCode);
    },
    write: () => true,
    end() {
      done();
      return this;
    },
  };
}

interface Round {
  readonly ops: number;
  readonly nodeMicros: number;
  readonly redisMicros: number;
}

interface Measured {
  readonly name: string;
  readonly opsPerSecond: number;
  readonly ratio: number;
  readonly nodeMicros: number;
  readonly redisMicros: number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

async function middlewareLevel(fx: Fixture): Promise<Measured[]> {
  const noop = (): void => undefined;
  const bulwarkTask = (store: SecureSessionStore): (() => Promise<void>) => {
    const http = createSessionHttp({ store });
    let next = 0;
    return async () => {
      const cookie = fx.bulwarkCookies[next++ % SESSIONS];
      const loaded = await http.load({ method: 'GET', headers: { ...BROWSER, cookie } as HeaderBag, remoteAddress: CLIENT_IP, setCookie: noop, vary: noop });
      if (loaded.state !== 'valid') throw new Error(`Bulwark session ${loaded.state}`);
    };
  };
  const esMiddleware = session(expressSessionOptions(fx.connectRedis));
  let expressNext = 0;
  const baseline = 'express-session + connect-redis';
  const tasks: Record<string, () => Promise<void>> = {
    'bulwark (defaults)': bulwarkTask(fx.bulwarkStore),
    'bulwark (touchIntervalMs: 0)': bulwarkTask(fx.bulwarkEagerStore),
    [baseline]: async () => {
      const cookie = fx.expressCookies[expressNext++ % SESSIONS];
      let finished!: () => void;
      const ended = new Promise<void>((resolve) => (finished = resolve));
      const res = fakeResponse(finished);
      const req = { headers: { ...BROWSER, cookie }, url: '/', originalUrl: '/', method: 'GET', connection: { encrypted: false }, socket: { remoteAddress: CLIENT_IP } } as { session?: unknown };
      await new Promise<void>((resolve, reject) => esMiddleware(req, res, (error?: unknown) => (error === undefined ? resolve() : reject(error))));
      if (req.session === undefined) throw new Error('express-session found no session');
      res.end();
      await ended;
    },
  };

  const names = Object.keys(tasks);
  const rounds = new Map<string, Round[]>(names.map((name) => [name, []]));
  const warmUp = 1;
  for (let round = 0; round < ROUNDS + warmUp; round += 1) {
    // A different order each round, so no task always runs right after the same neighbour.
    const order = names.map((_, index) => names[(index + round) % names.length] as string);
    for (const name of order) {
      const task = tasks[name] as () => Promise<void>;
      let count = 0;
      const redisBefore = await redisCpuMicros(fx.ioredis);
      const cpuBefore = process.cpuUsage();
      const start = performance.now();
      const end = start + ROUND_MS;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (performance.now() < end) {
            await task();
            count += 1;
          }
        }),
      );
      const seconds = (performance.now() - start) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      const redisMicros = (await redisCpuMicros(fx.ioredis)) - redisBefore;
      if (round >= warmUp) rounds.get(name)?.push({ ops: count / seconds, nodeMicros: (cpu.user + cpu.system) / count, redisMicros: redisMicros / count });
    }
  }
  const base = rounds.get(baseline) ?? [];
  return names.map((name) => {
    const list = rounds.get(name) ?? [];
    return {
      name,
      opsPerSecond: median(list.map((entry) => entry.ops)),
      ratio: median(list.map((entry, index) => entry.ops / (base[index]?.ops ?? Number.NaN))),
      nodeMicros: median(list.map((entry) => entry.nodeMicros)),
      redisMicros: median(list.map((entry) => entry.redisMicros)),
    };
  });
}

// --- level B: HTTP through Express ---------------------------------------------------------------

async function serve(port: number): Promise<void> {
  const fx = await fixture(port);
  const listen = (app: express.Express): Promise<number> =>
    new Promise((resolve) => {
      const server: Server = app.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const bulwarkApp = express();
  const sessions = createExpressSessions({ store: fx.bulwarkStore });
  bulwarkApp.get('/', sessions.middleware(), (req, res) => {
    res.end(req.bulwarkSession?.session.userId ?? 'none');
  });
  const expressApp = express();
  expressApp.get('/', session(expressSessionOptions(fx.connectRedis)) as express.RequestHandler, (req, res) => {
    res.end(String((req as unknown as { session?: { userId?: string } }).session?.userId ?? 'none'));
  });
  const plainApp = express();
  plainApp.get('/', (_req, res) => {
    res.end('none');
  });
  const ports = { bulwark: await listen(bulwarkApp), express: await listen(expressApp), plain: await listen(plainApp) };
  process.stdout.write(`${JSON.stringify({ ports, bulwarkCookies: fx.bulwarkCookies, expressCookies: fx.expressCookies })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

interface Loaded {
  readonly name: string;
  readonly requestsPerSecond: number;
  readonly ratio: number;
  readonly p99Ms: number;
}

async function httpLevel(redisPort: number): Promise<Loaded[]> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve', String(redisPort)], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let buffer = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        buffer += chunk;
        const newline = buffer.indexOf('\n');
        if (newline !== -1) resolve(buffer.slice(0, newline));
      });
      child.once('exit', (code) => reject(new Error(`the benchmark server exited with ${code}`)));
    });
    const setup = JSON.parse(line) as { ports: { bulwark: number; express: number; plain: number }; bulwarkCookies: string[]; expressCookies: string[] };
    const baseline = 'express-session + connect-redis';
    const targets = [
      { name: 'bulwark (Express adapter, defaults)', port: setup.ports.bulwark, cookies: setup.bulwarkCookies },
      { name: baseline, port: setup.ports.express, cookies: setup.expressCookies },
      { name: 'Express without sessions (the ceiling)', port: setup.ports.plain, cookies: setup.expressCookies },
    ];
    const results = new Map<string, { rps: number; p99: number }[]>(targets.map((target) => [target.name, []]));
    for (let round = 0; round < HTTP_ROUNDS; round += 1) {
      for (const target of targets.map((_, index) => targets[(index + round) % targets.length] as (typeof targets)[number])) {
        let next = 0;
        const result = await autocannon({
          url: `http://127.0.0.1:${target.port}/`,
          connections: HTTP_CONNECTIONS,
          duration: HTTP_SECONDS,
          headers: BROWSER,
          requests: [{ setupRequest: (request: { headers?: Record<string, string> }) => ({ ...request, headers: { ...request.headers, cookie: target.cookies[next++ % SESSIONS] ?? '' } }) }],
        });
        if (result.non2xx > 0 || result.errors > 0) throw new Error(`${target.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
        results.get(target.name)?.push({ rps: result.requests.average, p99: result.latency.p99 });
      }
    }
    const base = results.get(baseline) ?? [];
    return targets.map((target) => {
      const list = results.get(target.name) ?? [];
      return {
        name: target.name,
        requestsPerSecond: median(list.map((entry) => entry.rps)),
        ratio: median(list.map((entry, index) => entry.rps / (base[index]?.rps ?? Number.NaN))),
        p99Ms: median(list.map((entry) => entry.p99)),
      };
    });
  } finally {
    child.stdin.end();
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  }
}

// --- report ----------------------------------------------------------------------------------------


async function main(): Promise<void> {
  const redis = await startRedisServer();
  let levelA: Measured[];
  let levelB: Loaded[];
  let redisVersion = 'unknown';
  try {
    const fx = await fixture(redis.port);
    redisVersion = /redis_version:([\d.]+)/.exec(await fx.ioredis.info('server'))?.[1] ?? 'unknown';
    levelA = await middlewareLevel(fx);
    await fx.ioredis.quit();
    await fx.nodeRedis.quit();
    levelB = await httpLevel(redis.port);
  } finally {
    await redis.stop();
  }

  const [bulwarkA, eagerA] = levelA as [Measured, Measured, Measured];
  const [bulwarkB] = levelB as [Loaded, Loaded, Loaded];
  const out: string[] = [
    '## Sessions',
    '',
    `\`npm run bench -- session\` · ${machineLine()} · Redis ${redisVersion} (a private redis-server for the run) · express-session ${versionOf('express-session')} · connect-redis ${versionOf('connect-redis')} · redis (node-redis) ${versionOf('redis')} · ioredis ${versionOf('ioredis')} · express ${versionOf('express')} · autocannon ${versionOf('autocannon')}`,
    '',
    "One validation is each library's whole per-request work for a request with a valid session cookie, through its real",
    'middleware: Bulwark `createSessionHttp().load()` with its defaults (IP binding and device fingerprint on; one Lua script',
    'does lookup, lockout check, expiry, binding checks and the idle touch) against express-session (resave: false,',
    'saveUninitialized: false, maxAge 15 min) on connect-redis 9 (cookie parse, HMAC unsign, GET + JSON.parse, and the',
    `EXPIRE touch its \`res.end\` hook sends). ${SESSIONS} sessions each, used round-robin, on one Redis started for the run.`,
    '',
    `### A. Middleware level (verdict): ${IN_FLIGHT} requests in flight, median of ${ROUNDS} interleaved ${ROUND_MS / 1000} s rounds`,
    '',
    'In-memory request/response objects (no sockets): the figure is the session work alone. Ratios are per round, against',
    'express-session in the same round. CPU per validation: the Node process, and Redis (INFO CPU).',
    '',
    '| task | validations/s | ratio vs express-session | Node CPU | Redis CPU |',
    '|---|---:|---:|---:|---:|',
    ...levelA.map((row) => `| ${row.name} | ${formatOps(row.opsPerSecond)} | ${row.ratio.toFixed(2)}x | ${row.nodeMicros.toFixed(1)} µs | ${row.redisMicros.toFixed(1)} µs |`),
    '',
    "Bulwark writes a session's idle deadline at most once a second by default (`touchIntervalMs`: a burst of requests costs one",
    'write); express-session touches on every request. Here every session is hit several times a second, the best case for the',
    'default; the `touchIntervalMs: 0` row writes on every validation, as express-session does.',
    '',
    `### B. HTTP level: minimal Express app in a child process, autocannon, ${HTTP_CONNECTIONS} connections, median of ${HTTP_ROUNDS} × ${HTTP_SECONDS} s`,
    '',
    'Express routing, HTTP parsing, sockets and the load generator share the two cores with Redis: the session is a small',
    'part of each request here, so ratios are narrow and noisy on a shared machine. The last row is the same app without',
    'any session middleware, the most either could reach.',
    '',
    '| task | requests/s | ratio vs express-session | p99 latency |',
    '|---|---:|---:|---:|',
    ...levelB.map((row) => `| ${row.name} | ${formatOps(row.requestsPerSecond)} | ${row.ratio.toFixed(2)}x | ${row.p99Ms} ms |`),
    '',
    `**Verdict:** session validation at ${bulwarkA.ratio.toFixed(2)}× the throughput of express-session + connect-redis with the defaults and ${eagerA.ratio.toFixed(2)}× touching on every request (target ≥ ${TARGET}×): ${Math.min(bulwarkA.ratio, eagerA.ratio) >= TARGET ? 'met' : bulwarkA.ratio >= TARGET ? 'met with the defaults' : 'NOT met'}; ${bulwarkB.ratio.toFixed(2)}× through a whole Express app. Bulwark does more per request (IP and device binding, lockout check, safe JSON parse) in one round trip where express-session needs two.`,
    '',
  ];
  process.stdout.write(out.join('\n'));
}

if (process.argv[2] === '--serve') await serve(Number(process.argv[3]));
else await main();
