import { defineRedisFaultSuite } from '../system/support/redis-faults-scenario.js';

/**
 * The Redis faults at full length: Redis dead for 10 s (npm test uses 3 s), replies slowed for
 * 10 s, flapping for 10 s. Run with `npm run test:soak`. See docs/reliability.md.
 */
defineRedisFaultSuite({ outageMs: 10_000, slowMs: 10_000, flapMs: 10_000, ratePerSecond: 60 });
