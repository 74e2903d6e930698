import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { bulwarkEnvSchema, loadEnv } from 'bulwark/config';
import { describe, expect, it } from 'vitest';
import { validateConfigTree } from '../../apps/gateway/src/config/load.js';
import { REPO_ROOT, readYaml } from './support/kit.js';

/** deploy/kubernetes: the manifests refer to each other correctly and keep the gateway locked down. */

const DIR = join(REPO_ROOT, 'deploy/kubernetes');

interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

const files = readdirSync(DIR).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
const manifests: (Manifest & { file: string })[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]?.message}`);
    return { ...(document.toJS() as Manifest), file };
  }),
);
const find = <T,>(kind: string): Manifest & T => {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as unknown as Manifest & T;
};

interface Probe {
  readonly httpGet: { readonly path: string; readonly port: string | number };
}
interface Container {
  readonly name: string;
  readonly args: readonly string[];
  readonly ports: readonly { readonly name: string; readonly containerPort: number }[];
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly envFrom: readonly { readonly secretRef?: { readonly name: string } }[];
  readonly securityContext: Record<string, unknown> & { readonly capabilities: { readonly drop: readonly string[] } };
  readonly resources: { readonly requests: Record<string, string>; readonly limits: Record<string, string> };
  readonly livenessProbe: Probe;
  readonly readinessProbe: Probe;
  readonly startupProbe: Probe;
  readonly lifecycle: { readonly preStop: { readonly exec: { readonly command: readonly string[] } } };
  readonly volumeMounts: readonly { readonly name: string; readonly mountPath: string; readonly readOnly?: boolean }[];
}
interface PodSpec {
  readonly serviceAccountName: string;
  readonly automountServiceAccountToken: boolean;
  readonly terminationGracePeriodSeconds: number;
  readonly securityContext: Record<string, unknown>;
  readonly containers: readonly Container[];
  readonly volumes: readonly { readonly name: string; readonly configMap?: { readonly name: string } }[];
}
type Deployment = { spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } };

const deployment = find<Deployment>('Deployment');
const pod = deployment.spec.template.spec;
const gateway = pod.containers[0]!;
const podLabels = deployment.spec.template.metadata.labels;
const configMap = find<{ data: Record<string, string> }>('ConfigMap');
const secret = find<{ stringData: Record<string, string> }>('Secret');
const matches = (selector: Record<string, string>): boolean => Object.entries(selector).every(([key, value]) => podLabels[key] === value);
const exampleEnv = { REDIS_URL: 'rediss://bulwark:pw@redis.bulwark-data.svc:6380', DATABASE_URL: 'postgres://bulwark:pw@postgres.bulwark-data.svc:5432/bulwark', METRICS_TOKEN: 'm'.repeat(43), METRICS_ALLOWED_IPS: 'private', HOST: '0.0.0.0', PORT: '8080' };
const gatewayConfig = (() => {
  const result = validateConfigTree(parse(configMap.data['bulwark.yaml'] ?? ''), exampleEnv);
  if (!result.ok) throw new Error(`the ConfigMap's bulwark.yaml is invalid: ${JSON.stringify(result.problems)}`);
  return result.config;
})();

describe('kustomization.yaml', () => {
  it('lists every manifest but the Secret template, and each exists', () => {
    const kustomization = readYaml(join(DIR, 'kustomization.yaml')) as { namespace: string; resources: string[] };
    for (const resource of kustomization.resources) expect(existsSync(join(DIR, resource)), resource).toBe(true);
    expect([...kustomization.resources].sort()).toEqual(files.filter((file) => file !== 'secret.yaml').sort());
    expect(kustomization.namespace).toBe('bulwark');
    for (const manifest of manifests) if (manifest.kind !== 'Namespace') expect(manifest.metadata.namespace, `${manifest.kind} ${manifest.metadata.name}`).toBe('bulwark');
  });
});

describe('Deployment', () => {
  it('probes /health/live and /health/ready on the named port the gateway listens on', () => {
    const port = gateway.ports.find((candidate) => candidate.name === 'http');
    expect(port?.containerPort).toBe(8080);
    expect(gateway.env.find((variable) => variable.name === 'PORT')?.value).toBe(String(port?.containerPort));
    expect(gatewayConfig.server.port).toBe(port?.containerPort);
    expect(gateway.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(gateway.startupProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(gateway.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
  });

  it('runs as non-root with a read-only root file system, no capabilities and the default seccomp profile', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).not.toBe(0);
    expect(gateway.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true });
    expect(gateway.securityContext.capabilities.drop).toEqual(['ALL']);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(find<{ automountServiceAccountToken: boolean }>('ServiceAccount')).toMatchObject({ metadata: { name: pod.serviceAccountName }, automountServiceAccountToken: false });
  });

  it('declares resource requests and limits', () => {
    expect(Object.keys(gateway.resources.requests).sort()).toEqual(['cpu', 'memory']);
    expect(gateway.resources.limits.memory).toBeDefined();
  });

  it('reads its secrets from the Secret and its config from the ConfigMap, at the path it is started with', () => {
    expect(gateway.envFrom.map((source) => source.secretRef?.name)).toEqual([secret.metadata.name]);
    const volume = pod.volumes.find((candidate) => candidate.configMap?.name === configMap.metadata.name);
    const mount = gateway.volumeMounts.find((candidate) => candidate.name === volume?.name);
    expect(mount?.readOnly).toBe(true);
    const configPath = gateway.args[gateway.args.indexOf('--config') + 1] ?? '';
    expect(configPath).toBe(`${mount?.mountPath}/bulwark.yaml`);
    expect(Object.keys(configMap.data)).toContain('bulwark.yaml');
    for (const mountPath of ['/tmp', '/var/lib/bulwark']) expect(gateway.volumeMounts.map((candidate) => candidate.mountPath), 'writable paths on a read-only root').toContain(mountPath);
    expect(gateway.env.find((variable) => variable.name === 'NODE_ENV')?.value).toBe('production');
  });

  it('drains before it is killed: grace period above the preStop delay plus the shutdown timeout', () => {
    const preStopSeconds = Number(gateway.lifecycle.preStop.exec.command[1]);
    expect(preStopSeconds).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStopSeconds + gatewayConfig.server.shutdownTimeoutMs / 1000);
  });

  it('tells the config how many instances share the limits', () => {
    expect(gatewayConfig.redis?.expectedInstances).toBe(deployment.spec.replicas);
    expect(matches(deployment.spec.selector.matchLabels)).toBe(true);
  });
});

describe('Service, PodDisruptionBudget, NetworkPolicy, Ingress', () => {
  const service = find<{ spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] } }>('Service');
  const policy = find<{
    spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: { from: { namespaceSelector?: { matchLabels: Record<string, string> } }[]; ports: { port: string | number }[] }[] };
  }>('NetworkPolicy');
  const ingress = find<{ spec: { rules: { http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { name: string } } } }[] } }[] } }>('Ingress');
  const paths = ingress.spec.rules.flatMap((rule) => rule.http.paths);

  it('select the gateway pods and its named port', () => {
    expect(matches(service.spec.selector)).toBe(true);
    expect(service.spec.ports.map((port) => port.targetPort)).toEqual(['http']);
    expect(matches(find<{ spec: { selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget').spec.selector.matchLabels)).toBe(true);
    expect(matches(policy.spec.podSelector.matchLabels)).toBe(true);
    for (const path of paths) expect(path.backend.service).toEqual({ name: service.metadata.name, port: { name: service.spec.ports[0]?.name } });
  });

  it('admit traffic to the gateway from the ingress controller and Prometheus only, and restrict egress', () => {
    expect(policy.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    const sources = policy.spec.ingress.flatMap((rule) => rule.from.map((from) => from.namespaceSelector?.matchLabels['kubernetes.io/metadata.name']));
    expect(sources.sort()).toEqual(['ingress-nginx', 'monitoring']);
    for (const rule of policy.spec.ingress) expect(rule.ports.map((port) => port.port)).toEqual(['http']);
  });

  it('route only public prefixes: /metrics, /health/summary and /admin are not reachable through the Ingress', () => {
    const covers = (path: { path: string; pathType: string }, target: string): boolean =>
      path.pathType === 'Exact' ? path.path === target : target === path.path || target.startsWith(path.path.endsWith('/') ? path.path : `${path.path}/`);
    for (const internal of [gatewayConfig.metrics.path, '/health/summary', `${gatewayConfig.admin.prefix}/keys`, gatewayConfig.admin.prefix]) {
      for (const path of paths) expect(covers(path, internal), `${path.path} exposes ${internal}`).toBe(false);
    }
    // Each routed prefix is a public-facing route of the config (or the CSP report endpoint).
    const prefixes = gatewayConfig.routes.map((route) => route.match.value);
    for (const path of paths) expect([...prefixes, gatewayConfig.securityHeaders.cspReportPath]).toContain(path.path);
  });
});

describe('Secret template', () => {
  it('is left out of the kustomization and holds placeholders only, each refused at start-up', () => {
    const values = secret.stringData;
    expect(Object.keys(values).sort()).toEqual(['BULWARK_MASTER_KEY', 'DATABASE_URL', 'METRICS_TOKEN', 'REDIS_URL']);
    for (const value of Object.values(values)) expect(value).toMatch(/^REPLACE-ME/);
    // What `bulwark check` and the gateway's start-up validation do with them: refuse each, by name.
    const result = loadEnv(bulwarkEnvSchema, { NODE_ENV: 'production', ...values });
    expect(result.ok).toBe(false);
    const refused = result.ok ? [] : result.issues.map((issue) => issue.variable);
    for (const name of Object.keys(values)) expect(refused, name).toContain(name);
  });

  it('explains how to create the real Secret', () => {
    const text = readFileSync(join(DIR, 'secret.yaml'), 'utf8');
    expect(text).toContain('bulwark secrets generate');
    expect(text).toContain('kubectl -n bulwark create secret generic bulwark-secrets');
  });
});

describe('Namespace', () => {
  it('enforces the restricted Pod Security Standard', () => {
    expect(find<Manifest>('Namespace').metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });
});
