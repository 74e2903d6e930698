import { defineRedisFaultSuite } from './support/redis-faults-scenario.js';

/**
 * Redis killed, slowed and flapping under steady load (see support/redis-faults-scenario.ts). In
 * `npm test` the outage lasts 3 s; `npm run test:soak` runs the same scenario with the 10 s outage.
 */
defineRedisFaultSuite({ outageMs: 3000, slowMs: 4000, flapMs: 5000, ratePerSecond: 60 });
