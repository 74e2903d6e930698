import { defineSoakSuite } from '../system/support/soak-scenario.js';

/**
 * The long soak: `SOAK_DURATION_MS` (default 10 minutes) of mixed traffic with a growing key space,
 * sampled every 30 s. Run with `npm run test:soak`; figures land in the output as `[reliability]`
 * lines (and in RELIABILITY_RESULTS when set). See docs/reliability.md.
 */
const durationMs = Number(process.env['SOAK_DURATION_MS'] ?? 600_000);
const ratePerSecond = Number(process.env['SOAK_RATE'] ?? 100);
if (!Number.isInteger(durationMs) || durationMs < 10_000) throw new TypeError(`SOAK_DURATION_MS must be an integer of at least 10000, got ${String(process.env['SOAK_DURATION_MS'])}`);
if (!Number.isInteger(ratePerSecond) || ratePerSecond < 1 || ratePerSecond > 5000) throw new TypeError(`SOAK_RATE must be an integer from 1 to 5000, got ${String(process.env['SOAK_RATE'])}`);

defineSoakSuite({ durationMs, ratePerSecond, sampleEveryMs: 30_000 });
