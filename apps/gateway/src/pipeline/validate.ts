import { errors } from 'bulwark/errors';
import type { RequestValidator } from '../validation/request-validator.js';
import type { Stage } from './compiled-route.js';
import type { Exchange } from './exchange.js';

const NO_QUERY: Readonly<Record<string, string>> = Object.freeze({});

/** Request validation against the route's JSON Schemas: 422 VALIDATION_FAILED listing the issues. */
export function createValidationStage(validator: RequestValidator): Stage {
  return function validate(exchange: Exchange) {
    const issues = [
      ...(validator.hasQuery ? validator.query(exchange.query ?? NO_QUERY) : []),
      ...(validator.hasBody ? validator.body(exchange.json) : []),
    ];
    if (issues.length > 0) throw errors.validationFailed(issues);
    return undefined;
  };
}
