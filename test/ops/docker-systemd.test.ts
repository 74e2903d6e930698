import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/kit.js';

/** deploy/docker/Dockerfile and deploy/systemd/bulwark.service: read as text, checked for what matters. */

interface Instruction {
  readonly stage: string;
  readonly keyword: string;
  readonly args: string;
}

/** The instructions of a Dockerfile (continuation lines joined, comments dropped), with their stage. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  let stage = '';
  const result: Instruction[] = [];
  for (const line of joined.split('\n')) {
    const match = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (match === null) continue;
    const [, keyword = '', args = ''] = match;
    if (keyword === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? '';
    result.push({ stage, keyword, args: args.trim() });
  }
  return result;
}

const dockerfile = readFileSync(join(REPO_ROOT, 'deploy/docker/Dockerfile'), 'utf8');
const steps = instructions(dockerfile);
const stages = steps.filter((step) => step.keyword === 'FROM').map((step) => step.stage);
const final = stages.at(-1) ?? '';
const inStage = (stage: string, keyword: string): Instruction[] => steps.filter((step) => step.stage === stage && step.keyword === keyword);

describe('Dockerfile', () => {
  it('builds in stages and ships a runtime stage without the build tools', () => {
    expect(stages).toEqual(['build', 'prod-deps', 'runtime']);
    expect(inStage('build', 'RUN').map((step) => step.args).join('\n')).toMatch(/tsc -b packages\/bulwark apps\/gateway/);
    const runtimeCopies = inStage('runtime', 'COPY');
    expect(runtimeCopies.every((step) => step.args.startsWith('--from=')), 'the runtime stage copies from the other stages only').toBe(true);
    expect(runtimeCopies.map((step) => step.args).join('\n')).not.toMatch(/\/src(\s|\/packages\/bulwark\/src|\/apps\/gateway\/src)/);
  });

  it('installs the production dependencies only, without install scripts', () => {
    const install = inStage('prod-deps', 'RUN').map((step) => step.args).join('\n');
    expect(install).toMatch(/npm ci --omit=dev/);
    expect(install).toContain('--ignore-scripts');
    expect(install).toMatch(/--workspace packages\/bulwark --workspace apps\/gateway/);
    expect(inStage('runtime', 'COPY').map((step) => step.args).join('\n')).toContain('--from=prod-deps /app/node_modules');
  });

  it('runs as a non-root user, in production mode, listening on all interfaces inside the container', () => {
    const users = inStage(final, 'USER').map((step) => step.args);
    expect(users.at(-1)).toBeDefined();
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    const env = inStage(final, 'ENV').map((step) => step.args).join(' ');
    expect(env).toMatch(/NODE_ENV=production/);
    expect(env).toMatch(/HOST=0\.0\.0\.0/);
    expect(env).toMatch(/PORT=8080/);
    expect(inStage(final, 'EXPOSE').map((step) => step.args)).toEqual(['8080']);
  });

  it('starts the bulwark CLI that it copies, and checks liveness on /health/live', () => {
    const entrypoint = JSON.parse(inStage(final, 'ENTRYPOINT')[0]?.args ?? '[]') as string[];
    expect(entrypoint[0]).toBe('node');
    expect(entrypoint[1]).toBe('/app/apps/gateway/bin/bulwark.js');
    expect(existsSync(join(REPO_ROOT, 'apps/gateway/bin/bulwark.js'))).toBe(true);
    expect(inStage(final, 'COPY').some((step) => step.args.includes('/src/apps/gateway/bin ./apps/gateway/bin'))).toBe(true);
    expect(JSON.parse(inStage(final, 'CMD')[0]?.args ?? '[]')).toEqual(['start']);
    expect(inStage(final, 'HEALTHCHECK')[0]?.args).toContain('/health/live');
  });

  it('copies from the build context only files that exist and that the .dockerignore lets through', () => {
    const ignore = readFileSync(join(REPO_ROOT, 'deploy/docker/Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1).replace(/\/\*\*$/, ''));
    const contextCopies = steps.filter((step) => step.keyword === 'COPY' && !step.args.startsWith('--from='));
    expect(contextCopies.length).toBeGreaterThan(3);
    for (const step of contextCopies) {
      const sources = step.args.split(/\s+/).filter((part) => !part.startsWith('--')).slice(0, -1);
      for (const source of sources) {
        expect(existsSync(join(REPO_ROOT, source)), `COPY ${source}`).toBe(true);
        expect(ignore.some((allowed) => source === allowed || source.startsWith(`${allowed}/`) || allowed.startsWith(`${source}/`)), `${source} is let through by Dockerfile.dockerignore`).toBe(true);
      }
    }
  });

  // Regression: a new workspace (apps/console) broke `npm ci` in the image, which checks the whole
  // lockfile and so needs every workspace manifest.
  it('copies every workspace manifest before each npm ci', () => {
    const workspaces = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
    const manifests = workspaces.flatMap((pattern) => {
      const parent = pattern.replace(/\/\*$/, '');
      const folders = pattern.endsWith('/*') ? readdirSync(join(REPO_ROOT, parent)).map((name) => `${parent}/${name}`) : [pattern];
      return folders.filter((folder) => existsSync(join(REPO_ROOT, folder, 'package.json'))).map((folder) => `${folder}/package.json`);
    });
    expect(manifests.length).toBeGreaterThanOrEqual(4);
    for (const stage of ['build', 'prod-deps']) {
      const copied = inStage(stage, 'COPY').map((step) => step.args.split(/\s+/)[0]);
      for (const manifest of manifests) expect(copied, `${stage} copies ${manifest}`).toContain(manifest);
    }
  });

  it('ships the built console where the gateway looks for it', () => {
    expect(inStage('build', 'RUN').map((step) => step.args).join('\n')).toMatch(/npm run build -w @bulwark\/console/);
    expect(inStage(final, 'COPY').some((step) => step.args.includes('/src/apps/console/dist ./apps/console/dist'))).toBe(true);
  });

  it('never sends secrets or local state to the builder', () => {
    const ignore = readFileSync(join(REPO_ROOT, 'deploy/docker/Dockerfile.dockerignore'), 'utf8');
    expect(ignore.split('\n')[ignore.split('\n').findIndex((line) => !line.startsWith('#') && line.trim() !== '')]).toBe('**');
    for (const pattern of ['**/.env', '**/node_modules', '**/*.test.ts']) expect(ignore).toContain(pattern);
  });
});

/** The unit's settings, `Key=value` lines by section (a key may repeat). */
function unitFile(text: string): Map<string, [string, string][]> {
  const sections = new Map<string, [string, string][]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header !== null) {
      section = header[1] ?? '';
      sections.set(section, []);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new SyntaxError(`not a setting: ${line}`);
    sections.get(section)?.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return sections;
}

describe('systemd unit', () => {
  const unit = unitFile(readFileSync(join(REPO_ROOT, 'deploy/systemd/bulwark.service'), 'utf8'));
  const service = unit.get('Service') ?? [];
  const values = (key: string): string[] => service.filter(([name]) => name === key).map(([, value]) => value);
  const one = (key: string): string | undefined => values(key).at(-1);

  it('has the Unit, Service and Install sections', () => {
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
    expect(unit.get('Install')).toContainEqual(['WantedBy', 'multi-user.target']);
  });

  it('runs unprivileged and hardened', () => {
    expect(one('DynamicUser') === 'yes' || one('User') !== undefined, 'DynamicUser=yes or a dedicated User=').toBe(true);
    expect(one('User')).not.toBe('root');
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['PrivateDevices', 'yes'],
      ['RestrictSUIDSGID', 'yes'],
      ['CapabilityBoundingSet', ''],
      ['UMask', '0077'],
    ] as const) {
      expect(one(key), key).toBe(value);
    }
    expect(values('SystemCallFilter')).toContain('@system-service');
  });

  it('gets its secrets from an EnvironmentFile and writes only to its state directory, the data dir', () => {
    expect(one('EnvironmentFile')).toMatch(/^\/etc\/bulwark\/[\w.-]+\.env$/);
    const environment = values('Environment');
    expect(environment).toContain('NODE_ENV=production');
    expect(environment).toContain(`BULWARK_DATA_DIR=/var/lib/${one('StateDirectory')}`);
    expect(environment.join('\n')).not.toMatch(/MASTER_KEY|TOKEN|PASSWORD|_URL=/);
  });

  it('starts the gateway, reloads it with SIGHUP, and restarts it on failure only', () => {
    expect(one('ExecStart')).toMatch(/node \S*apps\/gateway\/bin\/bulwark\.js start$/);
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(one('Restart')).toBe('on-failure');
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(Number.parseInt(one('TimeoutStopSec') ?? '0', 10), 'longer than the default drain (10 s)').toBeGreaterThan(10);
  });
});
