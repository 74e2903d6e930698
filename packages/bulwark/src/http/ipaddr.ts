/**
 * ipaddr.js is a CommonJS module whose `module.exports` is assigned inside a UMD wrapper, so Node's
 * ESM loader exposes it only as `default`, and TypeScript (without `esModuleInterop`) refuses a
 * default import of its `export =` typings. `createRequire` loads it the CommonJS way with full types.
 */
import { createRequire } from 'node:module';
import type * as IpAddrModule from 'ipaddr.js';

export type { IPv4, IPv6 } from 'ipaddr.js';

export const ipaddr = createRequire(import.meta.url)('ipaddr.js') as typeof IpAddrModule;
