import { defineSoakSuite } from './support/soak-scenario.js';

/**
 * The short soak of `npm test` (40 s); `npm run test:soak` runs the same scenario for 10 minutes
 * (SOAK_DURATION_MS). See support/soak-scenario.ts.
 */
defineSoakSuite({ durationMs: 40_000, ratePerSecond: 100, sampleEveryMs: 5000 });
