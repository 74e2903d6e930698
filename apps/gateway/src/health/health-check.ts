/**
 * A dependency the gateway reports on: Redis, the database, a required upstream. `check` resolves
 * to whether it is usable now; it must not throw and must bound its own time (the readiness
 * endpoint also bounds it).
 */
export interface HealthCheck {
  readonly name: string;
  /** Whether readiness fails while this check fails. */
  readonly required: boolean;
  check(): Promise<boolean>;
}

export type CheckStatus = 'up' | 'down';

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, CheckStatus>>;
}

export interface Readiness {
  /** Runs (or reuses, within `cacheMs`) every check. */
  report(): Promise<ReadinessReport>;
  /** Marks the instance as draining: readiness fails from now on, whatever the checks say. */
  drain(): void;
  /** The names of the checks, for the public /health. */
  names(): readonly string[];
}

export interface ReadinessOptions {
  /** The checks, read on every run (the upstreams change with a reload). */
  readonly checks: () => readonly HealthCheck[];
  /** Each check gets at most this long. */
  readonly timeoutMs: number;
  /** A report is reused for this long, so that probes cannot turn into a load on the dependencies. */
  readonly cacheMs: number;
  readonly now?: () => number;
}

/**
 * Readiness over a set of checks: all run in parallel with a timeout, concurrent callers share one
 * run, and the result is cached for `cacheMs`.
 */
export function createReadiness(options: ReadinessOptions): Readiness {
  const now = options.now ?? Date.now;
  let cached: { at: number; report: ReadinessReport } | undefined;
  let running: Promise<ReadinessReport> | undefined;
  let draining = false;

  const withTimeout = (check: HealthCheck): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), options.timeoutMs);
      timer.unref();
      check.check().then(
        (up) => {
          clearTimeout(timer);
          resolve(up === true);
        },
        () => {
          clearTimeout(timer);
          resolve(false);
        },
      );
    });

  const run = async (): Promise<ReadinessReport> => {
    const list = options.checks();
    const results = await Promise.all(list.map(withTimeout));
    const checks: Record<string, CheckStatus> = {};
    let ready = !draining;
    list.forEach((check, index) => {
      const up = results[index] === true;
      checks[check.name] = up ? 'up' : 'down';
      if (!up && check.required) ready = false;
    });
    return { ready, checks };
  };

  return {
    names: () => options.checks().map((check) => check.name),
    drain() {
      draining = true;
      cached = undefined;
    },
    report() {
      const at = now();
      if (cached !== undefined && at - cached.at < options.cacheMs) return Promise.resolve(cached.report);
      running ??= run().then((report) => {
        const final = draining ? { ...report, ready: false } : report;
        cached = { at: now(), report: final };
        running = undefined;
        return final;
      });
      return running;
    },
  };
}
