import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfigTree } from '../../apps/gateway/src/config/load.js';
import { REPO_ROOT, alertRules, readYaml } from './support/kit.js';
import { promtool } from './support/promtool.js';

/** deploy/compose: the services are wired together, the files they mount exist, secrets stay out. */

const COMPOSE_DIR = join(REPO_ROOT, 'deploy/compose');

interface ComposeService {
  readonly image?: string;
  readonly build?: { readonly context: string; readonly dockerfile: string };
  readonly environment?: Record<string, string>;
  readonly volumes?: readonly string[];
  readonly ports?: readonly string[];
  readonly networks?: readonly string[];
  readonly depends_on?: Record<string, { readonly condition: string }> | readonly string[];
  readonly secrets?: readonly string[];
  readonly read_only?: boolean;
  readonly cap_drop?: readonly string[];
  readonly security_opt?: readonly string[];
  readonly user?: string;
  readonly healthcheck?: { readonly test: readonly string[] };
}
interface ComposeFile {
  readonly services: Record<string, ComposeService>;
  readonly networks: Record<string, { readonly internal?: boolean } | null>;
  readonly volumes: Record<string, unknown>;
  readonly secrets: Record<string, { readonly environment?: string; readonly file?: string }>;
}

// YAML merge keys (`<<: *gateway`) are part of the compose format.
const compose = readYaml(join(COMPOSE_DIR, 'docker-compose.yml'), { merge: true }) as ComposeFile;
const services = compose.services;
const gateways = Object.keys(services).filter((name) => name.startsWith('gateway-'));
const dependsOn = (service: ComposeService): string[] => (Array.isArray(service.depends_on) ? [...service.depends_on] : Object.keys(service.depends_on ?? {}));
const hostPath = (volume: string): string | undefined => {
  const source = volume.split(':')[0] ?? '';
  return source.startsWith('.') || source.startsWith('/') ? resolve(COMPOSE_DIR, source) : undefined;
};
const shareNetwork = (a: string, b: string): boolean => (services[a]?.networks ?? []).some((network) => (services[b]?.networks ?? []).includes(network));

const scratch = mkdtempSync(join(tmpdir(), 'bulwark-compose-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('docker-compose.yml', () => {
  it('runs two gateways, Redis, PostgreSQL, Prometheus and Grafana', () => {
    expect(gateways).toEqual(['gateway-1', 'gateway-2']);
    for (const name of ['redis', 'postgres', 'prometheus', 'grafana', 'upstream']) expect(Object.keys(services)).toContain(name);
  });

  it('refers only to services, networks, volumes and secrets it declares', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dependency of dependsOn(service)) expect(Object.keys(services), `${name} depends on ${dependency}`).toContain(dependency);
      for (const network of service.networks ?? []) expect(Object.keys(compose.networks), `${name} network ${network}`).toContain(network);
      for (const secret of service.secrets ?? []) expect(Object.keys(compose.secrets), `${name} secret ${secret}`).toContain(secret);
      for (const volume of service.volumes ?? []) {
        const path = hostPath(volume);
        if (path === undefined) expect(Object.keys(compose.volumes), `${name} volume ${volume}`).toContain(volume.split(':')[0]);
        else expect(existsSync(path), `${name} mounts ${volume}: ${path} exists`).toBe(true);
      }
    }
  });

  it('builds the gateways from deploy/docker/Dockerfile at the repository root', () => {
    for (const name of gateways) {
      const build = services[name]?.build;
      expect(build).toBeDefined();
      const context = resolve(COMPOSE_DIR, build?.context ?? '');
      expect(context).toBe(resolve(REPO_ROOT));
      expect(existsSync(join(context, build?.dockerfile ?? ''))).toBe(true);
    }
  });

  it('takes every secret from the environment, required, never a literal', () => {
    const required = ['BULWARK_MASTER_KEY', 'METRICS_TOKEN', 'REDIS_PASSWORD', 'POSTGRES_PASSWORD', 'GRAFANA_ADMIN_PASSWORD'];
    const text = readFileSync(join(COMPOSE_DIR, 'docker-compose.yml'), 'utf8');
    for (const variable of required) expect(text, variable).toMatch(new RegExp(`\\$\\{${variable}:\\?[^}]+\\}`));
    for (const service of Object.values(services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/PASSWORD|KEY|TOKEN|_URL$/.test(key) && value !== '') expect(String(value), key).toMatch(/\$\{[A-Z_]+[:?-]/);
      }
    }
    expect(compose.secrets.metrics_token).toEqual({ environment: 'METRICS_TOKEN' });
  });

  it('keeps Redis and PostgreSQL on an internal network without published ports, and publishes the rest on loopback only', () => {
    for (const name of ['redis', 'postgres']) {
      expect(services[name]?.ports, name).toBeUndefined();
      for (const network of services[name]?.networks ?? []) expect(compose.networks[network]?.internal, `${name} on ${network}`).toBe(true);
    }
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) expect(port, `${name} publishes ${port}`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
  });

  it('runs the gateways read-only, without capabilities or privilege escalation', () => {
    for (const name of gateways) {
      const service = services[name];
      expect(service?.read_only, name).toBe(true);
      expect(service?.cap_drop, name).toEqual(['ALL']);
      expect(service?.security_opt, name).toContain('no-new-privileges:true');
      expect(service?.environment?.NODE_ENV, name).toBe('production');
    }
    expect(services.redis?.user, 'Redis does not run as root').toBe('redis');
  });

  it('wires the gateways to Redis, PostgreSQL and the upstream by service name, on shared networks', () => {
    for (const name of gateways) {
      const env = services[name]?.environment ?? {};
      expect(env.REDIS_URL).toMatch(/^redis:\/\/bulwark:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379$/);
      expect(env.DATABASE_URL).toMatch(/^postgres:\/\/bulwark:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/bulwark$/);
      expect(services.postgres?.environment).toMatchObject({ POSTGRES_USER: 'bulwark', POSTGRES_DB: 'bulwark' });
      for (const other of ['redis', 'postgres', 'upstream', 'prometheus']) expect(shareNetwork(name, other), `${name} ↔ ${other}`).toBe(true);
    }
    expect(shareNetwork('grafana', 'prometheus')).toBe(true);
    expect(shareNetwork('upstream', 'redis'), 'the upstream cannot reach Redis').toBe(false);
  });

  it('mounts the dashboard where the Grafana provisioning looks for it, and the alert rules where Prometheus loads them', () => {
    const provider = readYaml(join(REPO_ROOT, 'deploy/grafana/provisioning/dashboards/bulwark.yml')) as { providers: { options: { path: string } }[] };
    const grafanaVolumes = services.grafana?.volumes ?? [];
    const dashboardMount = grafanaVolumes.find((volume) => volume.startsWith('../grafana/bulwark.json:'));
    expect(dashboardMount?.split(':')[1]?.startsWith(`${provider.providers[0]?.options.path}/`)).toBe(true);
    expect(grafanaVolumes.some((volume) => volume.startsWith('../grafana/provisioning/dashboards:/etc/grafana/provisioning/dashboards'))).toBe(true);
    expect(grafanaVolumes.some((volume) => volume.startsWith('../grafana/provisioning/datasources:/etc/grafana/provisioning/datasources'))).toBe(true);
    const datasource = readYaml(join(REPO_ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yml')) as { datasources: { url: string }[] };
    expect(Object.keys(services)).toContain(new URL(datasource.datasources[0]?.url ?? '').hostname);
    const rulesMount = (services.prometheus?.volumes ?? []).find((volume) => volume.startsWith('../prometheus/alerts.yml:'));
    expect(rulesMount).toBeDefined();
  });
});

describe('prometheus.yml', () => {
  const config = readYaml(join(COMPOSE_DIR, 'prometheus.yml')) as {
    rule_files: string[];
    scrape_configs: { job_name: string; metrics_path: string; authorization: { type: string; credentials_file: string }; static_configs: { targets: string[] }[] }[];
  };
  const job = config.scrape_configs.find((scrape) => scrape.job_name === 'bulwark');

  it('scrapes every gateway on its port, as the job the alert rules select, with the metrics token', () => {
    expect(job).toBeDefined();
    expect(alertRules().every((rule) => rule.expr.includes('job="bulwark"'))).toBe(true);
    const targets = job?.static_configs.flatMap((group) => group.targets) ?? [];
    expect(targets.map((target) => target.split(':')[0]).sort()).toEqual([...gateways].sort());
    for (const target of targets) expect(target.split(':')[1]).toBe(services[target.split(':')[0] ?? '']?.environment?.PORT);
    expect(job?.authorization.type).toBe('Bearer');
    expect(job?.authorization.credentials_file).toBe('/run/secrets/metrics_token');
    expect(services.prometheus?.secrets).toContain('metrics_token');
  });

  it('loads the mounted alert rules', () => {
    const mountTarget = (services.prometheus?.volumes ?? []).find((volume) => volume.startsWith('../prometheus/alerts.yml:'))?.split(':')[1] ?? '';
    const pattern = config.rule_files[0] ?? '';
    const glob = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    expect(mountTarget).toMatch(glob);
  });

  it('is a valid Prometheus config, rules included (promtool check config)', async () => {
    // The container paths, pointed at this checkout.
    const token = join(scratch, 'metrics_token');
    writeFileSync(token, 'x'.repeat(43));
    const local = { ...config, rule_files: [join(REPO_ROOT, 'deploy/prometheus/alerts.yml')], scrape_configs: config.scrape_configs.map((scrape) => ({ ...scrape, authorization: { ...scrape.authorization, credentials_file: token } })) };
    const file = join(scratch, 'prometheus.yml');
    writeFileSync(file, stringify(local));
    const result = await promtool(['check', 'config', file], scratch);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain(`SUCCESS: ${alertRules().length} rules found`);
  });
});

describe('bulwark.yaml of the compose deployment', () => {
  const tree = readYaml(join(COMPOSE_DIR, 'bulwark.yaml'));
  const env = { REDIS_URL: 'redis://bulwark:pw@redis:6379', DATABASE_URL: 'postgres://bulwark:pw@postgres:5432/bulwark', METRICS_TOKEN: 'm'.repeat(43), METRICS_ALLOWED_IPS: 'private', HOST: '0.0.0.0', PORT: '8080' };

  it('is a valid gateway config with the environment compose gives it', () => {
    const result = validateConfigTree(tree, env);
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it('shares limits through Redis across both instances and sends its routes to a compose service', () => {
    const result = validateConfigTree(tree, env);
    if (!result.ok) throw new Error('invalid');
    expect(result.config.redis?.expectedInstances).toBe(gateways.length);
    for (const upstream of Object.values(result.config.upstreams)) expect(Object.keys(services)).toContain(new URL(upstream.url).hostname);
  });
});
