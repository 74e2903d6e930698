import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The long reliability runs (`npm run test:soak`): the 10-minute soak and the 10-second Redis
// outage. Their files end in `.soak.ts`, so the root config (`test/**/*.test.ts`) never picks them
// up. Same resolver conditions as the root config: tests run against the TypeScript sources.
const conditions = ['bulwark-source', 'module', 'node', 'development|production'];

// eslint-disable-next-line no-restricted-syntax -- vitest loads its config through a default export
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['test/soak/**/*.soak.ts'],
    environment: 'node',
    pool: 'forks',
    // One scenario at a time: each one measures a machine it should have to itself.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 30 * 60_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
