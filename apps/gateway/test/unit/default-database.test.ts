import { describe, expect, it } from 'vitest';
import { defaultDatabase } from '../../src/lifecycle/start.js';

describe('defaultDatabase', () => {
  it('uses the configured PostgreSQL whatever the master key', () => {
    expect(defaultDatabase('postgres://db/app', true, '/data')).toEqual({ url: 'postgres://db/app' });
    expect(defaultDatabase('postgres://db/app', false, '/data')).toEqual({ url: 'postgres://db/app' });
  });

  it('keeps embedded data in the data directory under a real master key', () => {
    expect(defaultDatabase(undefined, false, '/data')).toEqual({ dataDir: '/data' });
  });

  // Regression: `npm start` twice reported "audit chain verification failed" at start-up, because
  // the second run's ephemeral key could not verify the chain the first run had left in .bulwark/.
  it('keeps the database in memory under an ephemeral master key, so no earlier run’s data is read', () => {
    expect(defaultDatabase(undefined, true, '/data')).toEqual({ memory: true });
  });
});
