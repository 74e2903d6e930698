import { errors } from 'bulwark/errors';
import type { AuthOutcome, Authenticator } from '../auth/authenticator.js';
import { hasScopes } from '../auth/identity.js';
import type { GatewayMetrics } from '../observability/gateway-metrics.js';
import type { Stage } from './compiled-route.js';
import type { Exchange } from './exchange.js';

/**
 * Authentication: runs the route's authenticator and stores the identity, or answers its problem
 * (401) and counts `auth_failures_total{scheme,reason}` (unless the verifier did). Public routes
 * have no such stage.
 */
export function createAuthenticationStage(authenticator: Authenticator, metrics: GatewayMetrics): Stage {
  const settle = (exchange: Exchange, outcome: AuthOutcome): undefined => {
    if (!outcome.ok) {
      if (!outcome.counted) metrics.authFailures.labels(authenticator.scheme, outcome.reason).inc();
      throw outcome.error;
    }
    exchange.identity = outcome.identity;
    exchange.undoAuthentication = outcome.undo;
    return undefined;
  };
  return function authenticate(exchange: Exchange) {
    const outcome = authenticator.authenticate(exchange);
    if (outcome instanceof Promise) return outcome.then((settled) => settle(exchange, settled));
    return settle(exchange, outcome);
  };
}

/** Authorisation: every scope the route requires must be granted to the identity (403 INSUFFICIENT_SCOPE). */
export function createAuthorizationStage(scheme: string, requiredScopes: readonly string[], metrics: GatewayMetrics): Stage {
  const refused = metrics.authFailures.labels(scheme, 'insufficient_scope');
  return function authorize(exchange: Exchange) {
    const granted = exchange.identity?.scopes ?? [];
    if (!hasScopes(granted, requiredScopes)) {
      refused.inc();
      throw errors.insufficientScope(requiredScopes);
    }
    return undefined;
  };
}
