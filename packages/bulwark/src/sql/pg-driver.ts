import { createRequire } from 'node:module';
import type { ClientBase, Pool, PoolConfig } from 'pg';

type PoolConstructor = new (config: PoolConfig, client: new () => ClientBase) => Pool;

let driver: { readonly Pool: PoolConstructor; readonly Client: new () => ClientBase } | undefined;

/**
 * Creates a `pg` connection pool — assembled from `pg-pool` and pg's `Client`, exactly as `pg`'s
 * own entry does, but without loading that entry. Why: `pg` `require()`s `pg-pool`, whose
 * package.json maps the `import` condition to an ES module; in a process started with
 * `--conditions=import` (test runners pass their resolve conditions to Node that way) that
 * `require` returns a module namespace and `pg` fails at load time with "Class extends value
 * [object Module]". Loading the two parts ourselves (unwrapping the namespace if we get one) works
 * under any conditions. Loaded on first use, never at import time.
 */
export function createPgPool(config: PoolConfig): Pool {
  if (driver === undefined) {
    const require = createRequire(import.meta.url);
    const poolModule = require('pg-pool') as PoolConstructor | { default: PoolConstructor };
    const Client = require('pg/lib/client.js') as new () => ClientBase;
    driver = { Pool: 'default' in poolModule ? poolModule.default : poolModule, Client };
  }
  return new driver.Pool(config, driver.Client);
}
