import type { RunningGateway } from './start.js';

/** The process events the gateway reacts to (`process` in production, an EventEmitter in tests). */
export interface SignalSource {
  on(signal: 'SIGTERM' | 'SIGINT' | 'SIGHUP', listener: () => void): unknown;
  off(signal: 'SIGTERM' | 'SIGINT' | 'SIGHUP', listener: () => void): unknown;
}

/**
 * Runs until SIGTERM or SIGINT, then shuts down gracefully and resolves with the exit code (0, or
 * 1 when the shutdown failed). A second SIGTERM/SIGINT during the drain resolves at once with 1
 * (the operator insists). SIGHUP reloads the config file; an invalid file keeps the running config.
 */
export function runUntilSignal(running: RunningGateway, signals: SignalSource): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) {
        running.logger.warn({}, 'second stop signal: exiting without waiting for the drain');
        cleanup();
        resolve(1);
        return;
      }
      stopping = true;
      running.shutdown().then(
        () => {
          cleanup();
          resolve(0);
        },
        (error: unknown) => {
          running.logger.error({ err: error }, 'shutdown failed');
          cleanup();
          resolve(1);
        },
      );
    };
    const reload = (): void => {
      if (stopping) return;
      running.logger.info({}, 'SIGHUP: reloading the config');
      running.reload().catch((error: unknown) => running.logger.error({ err: error }, 'config reload failed; still serving the previous one'));
    };
    const cleanup = (): void => {
      signals.off('SIGTERM', stop);
      signals.off('SIGINT', stop);
      signals.off('SIGHUP', reload);
    };
    signals.on('SIGTERM', stop);
    signals.on('SIGINT', stop);
    signals.on('SIGHUP', reload);
  });
}
