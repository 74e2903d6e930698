import { describe, expect, it } from 'vitest';
import { ApiError, isApiError } from './api-error.js';
import { errors } from './factories.js';
import { problemHeaders } from './problem-headers.js';
import { resolveProblemHandlerOptions } from './problem-handler-options.js';
import { toProblem } from './problem.js';

describe('ApiError', () => {
  it('takes status, severity and title from the catalogue and defaults detail to the title', () => {
    const error = new ApiError('CIRCUIT_OPEN');
    expect(error).toMatchObject({ code: 'CIRCUIT_OPEN', status: 503, severity: 'warning', title: 'Circuit open', detail: 'Circuit open', name: 'ApiError' });
    expect(isApiError(error)).toBe(true);
    expect(isApiError(new Error('x'))).toBe(false);
  });

  it('keeps the cause for the logs', () => {
    const cause = new Error('inner');
    expect(new ApiError('TIMEOUT', { cause }).cause).toBe(cause);
  });

  it('has factories for the common cases', () => {
    expect(errors.insufficientScope(['orders:write']).extensions).toEqual({ requiredScopes: ['orders:write'] });
    expect(errors.payloadTooLarge(10).detail).toBe('The body exceeds the limit of 10 bytes.');
    expect(errors.storeUnavailable(2).headers).toEqual({ 'retry-after': '2' });
    expect(errors.upstreamUnavailable().headers).toEqual({});
    expect(errors.internal(new Error('x')).detail).toBe('The server could not complete the request.');
  });
});

describe('problemHeaders', () => {
  it('keeps valid error headers, drops invalid ones and pins the fixed ones', () => {
    const error = new ApiError('RATE_LIMITED', {
      headers: JSON.parse('{"Retry-After":"3","bad header":"x","x-injected":"a\\r\\nSet-Cookie: y=1","content-type":"text/html","__proto__":"x"}') as Record<string, string>,
    });
    expect(problemHeaders(toProblem(error))).toEqual({
      'retry-after': '3',
      'content-type': 'application/problem+json; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
  });
});

describe('resolveProblemHandlerOptions', () => {
  it('defaults to a silent logger and exposeErrors false', () => {
    expect(resolveProblemHandlerOptions({})).toMatchObject({ exposeErrors: false, typeBase: undefined });
  });

  it.each([
    [{ exposeErrors: 'yes' }, /exposeErrors/],
    [{ logger: { info: () => undefined } }, /logger/],
    [{ typeBase: '' }, /typeBase/],
  ])('rejects %o', (options, message) => {
    expect(() => resolveProblemHandlerOptions(options as never)).toThrow(message);
  });
});
