import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';

/**
 * The suite's HTTP client and load generator: real requests over keep-alive connections (undici),
 * each outcome recorded — status, problem `code`, latency, or the network error when there was no
 * answer — and summarised as the figures docs/reliability.md reports.
 */

export interface RequestSpec {
  readonly url: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Groups outcomes in the tally (a route, a limit mode). @default 'all' */
  readonly tag?: string;
}

export interface Outcome {
  readonly tag: string;
  /** The HTTP status, or 0 when no answer arrived (connection refused or reset, client timeout). */
  readonly status: number;
  /** The problem `code` of an error answer, when it had one. */
  readonly code: string | undefined;
  readonly contentType: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The network error of a request without an answer. */
  readonly error: string | undefined;
  readonly startedAt: number;
  readonly ms: number;
  readonly text: string;
}

/** A client whose every wait is bounded: a hang shows up as a recorded timeout, never a stuck test. */
export function createClient(options: { readonly connections?: number; readonly timeoutMs?: number } = {}): Dispatcher {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Agent({ connections: options.connections ?? 32, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connectTimeout: 5000, keepAliveTimeout: 4000 });
}

function problemCode(text: string, contentType: string | undefined): string | undefined {
  if (contentType === undefined || !contentType.startsWith('application/problem+json')) return undefined;
  try {
    const parsed = JSON.parse(text) as { code?: unknown };
    return typeof parsed.code === 'string' ? parsed.code : undefined;
  } catch {
    return undefined;
  }
}

/** Sends one request; never throws (a failure is an outcome with status 0). */
export async function hit(dispatcher: Dispatcher, spec: RequestSpec): Promise<Outcome> {
  const startedAt = performance.now();
  const tag = spec.tag ?? 'all';
  try {
    const response = await request(spec.url, {
      dispatcher,
      method: (spec.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: { ...spec.headers },
      body: spec.body ?? null,
    });
    const text = await response.body.text();
    const contentType = typeof response.headers['content-type'] === 'string' ? response.headers['content-type'] : undefined;
    return { tag, status: response.statusCode, code: problemCode(text, contentType), contentType, headers: response.headers, error: undefined, startedAt, ms: performance.now() - startedAt, text };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const name = typeof code === 'string' ? code : (error as Error).name;
    return { tag, status: 0, code: undefined, contentType: undefined, headers: {}, error: name, startedAt, ms: performance.now() - startedAt, text: '' };
  }
}

/** The p-th percentile (0–100) of `values`, nearest rank; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

export interface Summary {
  readonly requests: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly codes: Readonly<Record<string, number>>;
  readonly errors: Readonly<Record<string, number>>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Every outcome of a scenario, with summaries by tag. */
export class Tally {
  readonly outcomes: Outcome[] = [];

  add(outcome: Outcome): Outcome {
    this.outcomes.push(outcome);
    return outcome;
  }

  /** Outcomes of one tag (or all), optionally only those that started in [from, to). */
  select(tag?: string, from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY): Outcome[] {
    return this.outcomes.filter((outcome) => (tag === undefined || outcome.tag === tag) && outcome.startedAt >= from && outcome.startedAt < to);
  }

  static summarise(outcomes: readonly Outcome[]): Summary {
    const count = (key: (outcome: Outcome) => string | undefined): Record<string, number> => {
      const counts: Record<string, number> = {};
      for (const outcome of outcomes) {
        const value = key(outcome);
        if (value !== undefined) counts[value] = (counts[value] ?? 0) + 1;
      }
      return counts;
    };
    const latencies = outcomes.map((outcome) => outcome.ms);
    return {
      requests: outcomes.length,
      statuses: count((outcome) => String(outcome.status)),
      codes: count((outcome) => outcome.code),
      errors: count((outcome) => outcome.error),
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
      maxMs: round(latencies.reduce((max, value) => Math.max(max, value), 0)),
    };
  }

  summary(tag?: string, from?: number, to?: number): Summary {
    return Tally.summarise(this.select(tag, from, to));
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/**
 * Steady load: `ratePerSecond` requests a second, spread over the tags `next` returns, until
 * `signal` aborts. Each request is started on schedule whether or not the previous ones answered
 * (open loop, like independent clients), with at most `maxInFlight` outstanding so a hang cannot
 * pile up unbounded sockets. Resolves with nothing once every started request has an outcome.
 */
export async function steadyLoad(options: {
  readonly dispatcher: Dispatcher;
  readonly tally: Tally;
  readonly ratePerSecond: number;
  readonly signal: AbortSignal;
  readonly next: (index: number) => RequestSpec;
  readonly maxInFlight?: number;
}): Promise<void> {
  const { dispatcher, tally, signal, next } = options;
  const intervalMs = 1000 / options.ratePerSecond;
  const maxInFlight = options.maxInFlight ?? 256;
  const inFlight = new Set<Promise<unknown>>();
  const started = performance.now();
  let index = 0;
  while (!signal.aborted) {
    if (inFlight.size < maxInFlight) {
      const pending = hit(dispatcher, next(index)).then((outcome) => tally.add(outcome));
      inFlight.add(pending);
      void pending.finally(() => inFlight.delete(pending));
    }
    index += 1;
    // Pacing is the load's shape (requests per second), not a synchronisation.
    const due = started + index * intervalMs - performance.now();
    if (due > 0) await sleep(due, undefined, { signal }).catch(() => undefined);
  }
  await Promise.all(inFlight);
}

/** Sends `specs` with at most `concurrency` in flight; outcomes in the order of `specs`. */
export async function burst(dispatcher: Dispatcher, specs: readonly RequestSpec[], concurrency: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array<Outcome>(specs.length);
  let nextIndex = 0;
  const worker = async (): Promise<void> => {
    while (nextIndex < specs.length) {
      const index = nextIndex;
      nextIndex += 1;
      const spec = specs[index];
      if (spec !== undefined) outcomes[index] = await hit(dispatcher, spec);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker));
  return outcomes;
}
