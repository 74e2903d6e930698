import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMasterKey } from 'bulwark/crypto';
import { stringify } from 'yaml';

/**
 * Config files and scratch space for the system suites. Configs are written as YAML files, the way
 * an operator writes them; secrets and addresses come from the environment through `${VAR}`.
 */

/** A scratch directory (config files, data directories), removed by `remove()`. */
export async function scratchDir(label: string): Promise<{ readonly path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `bulwark-system-${label}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A fresh master key, as `bulwark secrets generate` prints it. */
export function newMasterKey(): string {
  return generateMasterKey();
}

export function toYaml(config: Readonly<Record<string, unknown>>): string {
  return `# written by test/system\n${stringify(config)}`;
}

/** A rate limit entry of a route. */
export interface LimitSpec {
  readonly name: string;
  readonly limit: number;
  readonly window: string;
  readonly by?: 'ip' | 'apiKey' | 'tenant' | 'header';
  readonly header?: string;
  readonly algorithm?: 'sliding-window' | 'fixed-window' | 'gcra';
  readonly onStoreFailure?: 'local' | 'closed' | 'open';
}

/** A unique Redis key prefix for one run on a shared Redis. */
export function runPrefix(label: string): string {
  return `bw-sys-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}:`;
}
