import { silentLogger } from 'bulwark/observability';
import { breakerDefaultsFromEnv } from 'bulwark/resilience';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createBreakerTransitions } from '../../src/admin/breaker-transitions.js';
import { breakerSchema } from '../../src/config/schema.js';
import { createBreakerSet } from '../../src/proxy/breakers.js';

const breakerConfig = breakerSchema.parse({ failureThreshold: 2 });

function fixture() {
  const registry = new Registry();
  const breakers = createBreakerSet({ registry, logger: silentLogger, defaults: breakerDefaultsFromEnv({}) });
  breakers.forUpstream('api', breakerConfig);
  breakers.forUpstream('billing', breakerConfig);
  return { breakers };
}

describe('breaker transitions', () => {
  it('keeps the last 20 per breaker, newest last, and stops following disposed breakers', () => {
    const { breakers } = fixture();
    const transitions = createBreakerTransitions(breakers, { keep: 20 });
    transitions.sync();
    const api = breakers.get('api');
    for (let i = 0; i < 15; i += 1) {
      api?.isolate();
      api?.reset();
    }
    const log = transitions.of('api');
    expect(log).toHaveLength(20);
    expect(log[19]).toMatchObject({ from: 'open', to: 'closed' });
    breakers.retain(new Set(['api']));
    transitions.sync();
    expect(transitions.of('billing')).toEqual([]);
    transitions.close();
    api?.isolate();
    expect(transitions.of('api')).toHaveLength(20);
    expect(transitions.of('api')[19]).toMatchObject({ from: 'open', to: 'closed' });
  });
});
