import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources: the `bulwark-source` export condition points every
// `bulwark/<module>` import at `src/<module>/index.ts`, so no build is needed before `npm test`.
// Only the resolver sees these: Node itself (loading CommonJS dependencies such as pg or Express's
// router) must keep its own conditions, or it would load their ES-module builds into `require`.
const conditions = ['bulwark-source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
