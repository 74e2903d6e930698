/**
 * Three separate processes sharing one Redis, all against the same key at the same moment: the
 * Lua scripts are atomic, so together they never get more than the limit.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

const run = promisify(execFile);
const hammer = fileURLToPath(new URL('./support/hammer-process.ts', import.meta.url));
const repositoryRoot = fileURLToPath(new URL('../../../../', import.meta.url));

describe('three processes on one Redis', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('never let more than the limit through together, for every algorithm', async () => {
    const startAt = Date.now() + 1500; // after every process has loaded and connected
    const limit = 150;
    const outputs = await Promise.all(
      [0, 1, 2].map(() =>
        run(process.execPath, ['--conditions=bulwark-source', '--import', 'tsx', hammer, String(server.port), 'mp:', String(limit), '3600000', '200', String(startAt)], { cwd: repositoryRoot, timeout: 30_000 }),
      ),
    );
    const results = outputs.map(({ stdout }) => JSON.parse(stdout) as Record<string, { allowed: number; reasons: string[] }>);
    for (const algorithm of ['gcra', 'sliding-window', 'fixed-window']) {
      const perProcess = results.map((result) => result[algorithm]!);
      // An hour-long window: nothing refills during the run, so exactly the limit gets through.
      expect(perProcess.reduce((sum, result) => sum + result.allowed, 0)).toBe(limit);
      for (const result of perProcess) expect(result.reasons.every((reason) => reason === 'ok' || reason === 'limited')).toBe(true);
    }
  });
});
