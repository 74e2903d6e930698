/**
 * Writes deploy/grafana/bulwark.json from deploy/scripts/dashboard/bulwark-dashboard.ts.
 *
 *   npx tsx --conditions=bulwark-source deploy/scripts/generate-dashboard.ts [--check]
 */
import { join } from 'node:path';
import { bulwarkDashboard } from './dashboard/bulwark-dashboard.js';
import { isMainModule, REPO_ROOT, writeOrCheck } from './generated-file.js';

export const DASHBOARD_PATH = join(REPO_ROOT, 'deploy/grafana/bulwark.json');

/** The dashboard file's exact text. */
export function renderDashboard(): string {
  return `${JSON.stringify(bulwarkDashboard(), null, 2)}\n`;
}

if (isMainModule(import.meta.url)) process.exitCode = await writeOrCheck(DASHBOARD_PATH, renderDashboard, process.argv.slice(2));
