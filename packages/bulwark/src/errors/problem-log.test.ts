import { describe, expect, it, vi } from 'vitest';
import { ApiError } from './api-error.js';
import { ERROR_CATALOGUE, ERROR_CODES } from './catalogue.js';
import { toProblem } from './problem.js';
import { LOG_LEVEL_BY_SEVERITY, logProblem } from './problem-log.js';

function recorder(withFatal = true) {
  const calls: { level: string; fields: Record<string, unknown>; message: string | undefined }[] = [];
  const record = (level: string) => (fields: object, message?: string) => void calls.push({ level, fields: fields as Record<string, unknown>, message });
  const logger = { error: record('error'), warn: record('warn'), info: record('info'), debug: record('debug'), ...(withFatal ? { fatal: record('fatal') } : {}) };
  return { logger, calls };
}

describe('logProblem', () => {
  it('logs every code at the level its severity picks', () => {
    for (const code of ERROR_CODES) {
      const { logger, calls } = recorder();
      logProblem(logger, toProblem(new ApiError(code)));
      expect(calls[0]?.level, code).toBe(LOG_LEVEL_BY_SEVERITY[ERROR_CATALOGUE[code].severity]);
    }
  });

  it('falls back to error for critical problems when the logger has no fatal', () => {
    const { logger, calls } = recorder(false);
    logProblem(logger, toProblem(new Error('boom')));
    expect(calls[0]?.level).toBe('error');
  });

  it('logs the cause redacted, with the request context and the path without its query', () => {
    const { logger, calls } = recorder();
    const cause = Object.assign(new Error('auth failed for Bearer abcdefghijklmnopq'), { headers: { authorization: 'x' } });
    logProblem(logger, toProblem(new ApiError('UPSTREAM_ERROR', { cause })), { requestId: 'r1', method: 'GET', url: '/orders?token=abc', route: '/orders' });
    const { fields, message } = calls[0] ?? { fields: {} as Record<string, unknown>, message: '' };
    expect(message).toBe('UPSTREAM_ERROR: Bad response from upstream');
    expect(fields).toMatchObject({ code: 'UPSTREAM_ERROR', status: 502, requestId: 'r1', method: 'GET', path: '/orders', route: '/orders' });
    expect(fields.err).toMatchObject({ type: 'Error', message: 'auth failed for Bearer [REDACTED]', headers: { authorization: '[REDACTED]' } });
  });

  it('logs an expected error without a stack', () => {
    const { logger, calls } = recorder();
    logProblem(logger, toProblem(new ApiError('RATE_LIMITED')));
    expect(calls[0]?.fields.err).toBeUndefined();
  });

  it('survives a logger that throws', () => {
    const logger = { error: vi.fn(() => { throw new Error('x'); }), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
    expect(() => logProblem(logger, toProblem(new Error('boom')))).not.toThrow();
  });
});
