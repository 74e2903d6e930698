/**
 * Express adapters: thin middleware over Bulwark's framework-neutral modules.
 * Each topic lives in its own file; this entry re-exports them.
 */
export * from './errors.js';
export * from './request-id.js';
export * from './api-keys.js';
