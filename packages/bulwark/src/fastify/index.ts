/**
 * Fastify adapters: thin plugins and hooks over Bulwark's framework-neutral modules.
 * Each topic lives in its own file; this entry re-exports them.
 */
export * from './errors.js';
export * from './request-id.js';
export * from './api-keys.js';
export * from './ratelimit.js';
export * from './raw-body.js';
export * from './signatures.js';
export * from './webhooks.js';
export * from './session.js';
export * from './csrf.js';
