import { describe, expect, it } from 'vitest';
import { endsSession, errorsFor, otherErrors, problemFrom, retryAfterSecondsOf } from './problem.js';

const headers = (values: Record<string, string> = {}) => ({ get: (name: string) => values[name.toLowerCase()] ?? null });
const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('problemFrom', () => {
  it('reads a problem+json document: title, detail, code, request id, field errors', () => {
    const problem = problemFrom(
      422,
      { type: 'https://bulwark.dev/errors#VALIDATION_FAILED', title: 'Validation failed', status: 422, detail: 'The request does not match the expected shape.', code: 'VALIDATION_FAILED', requestId: 'req-1', errors: [{ path: 'scopes.0', message: 'expected a scope' }] },
      headers(),
      NOW,
    );
    expect(problem).toEqual({ status: 422, code: 'VALIDATION_FAILED', title: 'Some fields need attention', detail: 'The request does not match the expected shape.', requestId: 'req-1', errors: [{ path: 'scopes.0', message: 'expected a scope' }], retryAfterSeconds: undefined });
  });

  it("puts the codes an operator meets in plain words, keeping the gateway's detail unless ours says what to do", () => {
    const csrf = problemFrom(403, { title: 'Invalid CSRF token', code: 'CSRF_TOKEN_INVALID', detail: 'x-csrf-token does not verify' }, headers(), NOW);
    expect([csrf.title, csrf.detail]).toEqual(["The page's security token was not accepted", 'Reload the page and try again; nothing was changed.']);
    const scope = problemFrom(403, { title: 'Insufficient scope', code: 'INSUFFICIENT_SCOPE', detail: 'needs admin' }, headers(), NOW);
    expect([scope.title, scope.detail]).toEqual(['This key is not allowed to do that', 'needs admin']);
    expect(problemFrom(409, { title: 'Key already rotated', code: 'CONFLICT' }, headers(), NOW).title).toBe('Key already rotated');
  });

  it('falls back to a title for the status, and to X-Request-ID, when the body is not a problem', () => {
    const problem = problemFrom(502, undefined, headers({ 'x-request-id': 'edge-7' }), NOW);
    expect(problem.title).toBe('The gateway could not reach a service');
    expect(problem.requestId).toBe('edge-7');
    expect(problemFrom(418, 'teapot', headers(), NOW).title).toBe('The gateway answered 418');
  });

  it('ignores fields of the wrong type and cuts long strings, so a hostile body cannot flood the page', () => {
    const problem = problemFrom(400, { title: 42, detail: 'x'.repeat(5000), code: { nested: true }, errors: [null, 'text', { path: 1, message: 'kept' }, { message: '' }] }, headers(), NOW);
    expect(problem.title).toBe('The request was not accepted');
    expect(problem.detail).toHaveLength(1000);
    expect(problem.code).toBeUndefined();
    expect(problem.errors).toEqual([{ path: '(body)', message: 'kept' }]);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(problemFrom(429, { code: 'ACCOUNT_LOCKED' }, headers({ 'retry-after': '900' }), NOW).retryAfterSeconds).toBe(900);
    expect(retryAfterSecondsOf('Sun, 01 Mar 2026 12:01:30 GMT', NOW)).toBe(90);
    expect(retryAfterSecondsOf('Sun, 01 Mar 2026 11:00:00 GMT', NOW)).toBe(0);
    expect(retryAfterSecondsOf('soon', NOW)).toBeUndefined();
    expect(retryAfterSecondsOf(null, NOW)).toBeUndefined();
  });
});

describe('field errors', () => {
  const problem = problemFrom(422, { errors: [{ path: 'limits.0.windowMs', message: 'too small' }, { path: 'name', message: 'required' }, { path: 'namespace', message: 'unknown' }] }, headers(), NOW);

  it('belong to a field by path prefix, never by a shared beginning of the name', () => {
    expect(errorsFor(problem, 'limits').map((error) => error.message)).toEqual(['too small']);
    expect(errorsFor(problem, 'name').map((error) => error.message)).toEqual(['required']);
    expect(errorsFor(undefined, 'name')).toEqual([]);
  });

  it('the rest are shown with the summary', () => {
    expect(otherErrors(problem, ['limits', 'name']).map((error) => error.path)).toEqual(['namespace']);
  });
});

describe('endsSession', () => {
  it('is true for a 401 only', () => {
    expect(endsSession(problemFrom(401, { code: 'SESSION_INVALID' }, headers(), NOW))).toBe(true);
    expect(endsSession(problemFrom(403, { code: 'CSRF_REJECTED' }, headers(), NOW))).toBe(false);
    expect(endsSession(problemFrom(429, { code: 'ACCOUNT_LOCKED' }, headers(), NOW))).toBe(false);
  });
});
