/**
 * Bulwark: security and resilience building blocks for TypeScript HTTP services.
 *
 * Import from the module subpaths (`bulwark/ratelimit`, `bulwark/resilience`, …) so that an
 * application loads only what it uses; this root entry re-exports nothing on purpose.
 */
export const BULWARK_VERSION = '0.1.0';
