import { appendFileSync } from 'node:fs';

/**
 * The figures of a scenario (requests, statuses, latencies, heap, recovery times), printed as one
 * `[reliability] {...}` line in the test output and, when `RELIABILITY_RESULTS` names a file,
 * appended to it as JSON Lines — docs/reliability.md quotes these runs.
 */
export function recordFigures(scenario: string, figures: Readonly<Record<string, unknown>>): void {
  const line = JSON.stringify({ scenario, at: new Date().toISOString(), ...figures });
  process.stdout.write(`[reliability] ${line}\n`);
  const file = process.env['RELIABILITY_RESULTS'];
  if (file !== undefined && file !== '') appendFileSync(file, `${line}\n`);
}
