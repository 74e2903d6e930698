import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuditLog, AuditVerifyResult } from 'bulwark/audit';
import { watchAuditChain } from '../../src/lifecycle/audit-watch.js';

function fakeAudit(results: (AuditVerifyResult | Error)[]): AuditLog & { calls: number } {
  const audit = {
    calls: 0,
    verify: async (): Promise<AuditVerifyResult> => {
      const next = results[Math.min(audit.calls, results.length - 1)]!;
      audit.calls += 1;
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return audit as unknown as AuditLog & { calls: number };
}

function recordingLogger() {
  const lines: { level: string; object: object; message?: string }[] = [];
  const at = (level: string) => (object: object, message?: string) => lines.push({ level, object, ...(message === undefined ? {} : { message }) });
  return { lines, logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } };
}

describe('watchAuditChain', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('verifies at start and on every interval, logging a broken chain at error level with the entry', async () => {
    vi.useFakeTimers();
    const audit = fakeAudit([{ ok: true, count: 3 }, { ok: false, brokenAt: 2, reason: 'hash_mismatch' }]);
    const { lines, logger } = recordingLogger();
    const stop = watchAuditChain(audit, logger, 1000);
    await vi.advanceTimersByTimeAsync(0);
    expect(audit.calls).toBe(1);
    expect(lines).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(audit.calls).toBe(2);
    expect(lines).toEqual([expect.objectContaining({ level: 'error', object: { brokenAt: 2, reason: 'hash_mismatch' } })]);
    stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(audit.calls).toBe(2);
  });

  it('logs a verification that could not run at warn level and keeps watching', async () => {
    vi.useFakeTimers();
    const audit = fakeAudit([new Error('database down'), { ok: true, count: 0 }]);
    const { lines, logger } = recordingLogger();
    const stop = watchAuditChain(audit, logger, 1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(audit.calls).toBe(2);
    expect(lines.map((line) => line.level)).toEqual(['warn']);
    stop();
  });
});
