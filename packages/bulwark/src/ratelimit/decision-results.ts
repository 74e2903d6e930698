// No imports: the admin console (a browser build) shows its rate-limit figures in this order.

/**
 * The values of the `result` label of `ratelimit_decisions_total`. Reasons that do not imply the
 * verdict (the store was unavailable, the fallback decided) carry it as a suffix.
 */
export const DECISION_RESULTS = [
  'ok',
  'limited',
  'shadow',
  'fallback_allowed',
  'fallback_rejected',
  'store_unavailable_allowed',
  'store_unavailable_rejected',
  'circuit_open_allowed',
  'circuit_open_rejected',
] as const;
export type DecisionResult = (typeof DECISION_RESULTS)[number];
