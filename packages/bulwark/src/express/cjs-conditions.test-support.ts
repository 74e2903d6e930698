/**
 * Test-only workaround, imported before `express`. The root vitest config passes its resolve
 * conditions, `import` included, to the worker as `--conditions`; Node then resolves `require()` of
 * dual packages to their ESM build (require(esm), Node ≥ 20.19), and Express 5's router receives
 * `is-promise` as a module namespace instead of a function ("isPromise is not a function"). Until
 * the config passes only `bulwark-source` as an external condition, the CommonJS build is placed
 * in the require cache under the path Node resolves to, so Express loads as it does in production.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

for (const name of ['is-promise']) {
  const resolved = require.resolve(name);
  if (!resolved.endsWith('.mjs')) continue;
  const commonJs = resolved.replace(/\.mjs$/, '.js');
  require.cache[resolved] = { id: resolved, filename: resolved, loaded: true, exports: require(commonJs) as unknown } as NodeJS.Module;
}
