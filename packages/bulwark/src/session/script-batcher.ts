/**
 * Sends the session scripts to Redis: EVALSHA, re-sent with EVAL only when Redis has forgotten the
 * script (NOSCRIPT after a restart or a failover), and with a deadline per call.
 *
 * Calls made in the same tick go out as one pipeline — one socket write instead of one per call.
 * Under load a validation is one small EVALSHA per request, and measured on the session benchmark
 * the per-command write dominated the client's CPU time; Redis still runs each script atomically
 * on its own, so batching changes nothing about correctness. On a Cluster client calls are sent one
 * by one (a pipeline must stay on one node): enable ioredis' `enableAutoPipelining` there, which
 * batches per node.
 */
import type { Cluster, Redis } from 'ioredis';
import { SessionStoreError } from './store-error.js';

export interface LoadedScript {
  readonly keys: number;
  readonly source: string;
  readonly sha: string;
}

type Argv = readonly (string | number)[];

interface Pending {
  readonly script: LoadedScript;
  readonly numKeys: number;
  readonly argv: Argv;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: unknown) => void;
  settled: boolean;
}

export class ScriptBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly flushQueue = (): void => this.flush();

  constructor(
    private readonly client: Redis | Cluster,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Runs `script` with `argv` (`numKeys` keys, then arguments). Rejects only with a {@link SessionStoreError}.
   * @param numKeys - @default script.keys
   */
  run(script: LoadedScript, argv: Argv, numKeys = script.keys): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ script, numKeys, argv, resolve, reject, settled: false });
      if (this.client.isCluster) {
        this.flush();
        return;
      }
      if (!this.scheduled) {
        this.scheduled = true;
        // In the check phase, after every socket read of this event-loop turn was handled: all the
        // requests that arrived together share one write (nextTick would flush after each read).
        setImmediate(this.flushQueue);
      }
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    if (batch.length === 0) return;
    // One deadline for the whole batch: its calls were sent together and are answered together.
    let open = batch.length;
    const timer = setTimeout(() => {
      for (const call of batch) this.settle(call, new SessionStoreError('timeout', `session store: no answer from Redis within ${this.timeoutMs} ms`));
    }, this.timeoutMs);
    timer.unref?.();
    const settle = (call: Pending, outcome: unknown): void => {
      if (call.settled) return;
      this.settle(call, outcome);
      open -= 1;
      if (open === 0) clearTimeout(timer);
    };
    const [only] = batch;
    if (batch.length === 1 && only !== undefined) {
      this.client.evalsha(only.script.sha, only.numKeys, ...only.argv).then(
        (reply) => settle(only, { reply }),
        (error: unknown) => this.retryOnNoScript(only, error, settle),
      );
      return;
    }
    const pipeline = this.client.pipeline();
    for (const call of batch) pipeline.evalsha(call.script.sha, call.numKeys, ...call.argv);
    pipeline.exec().then(
      (replies) => {
        batch.forEach((call, index) => {
          const [error, reply] = replies?.[index] ?? [new Error('pipeline returned no reply'), undefined];
          if (error === null) settle(call, { reply });
          else this.retryOnNoScript(call, error, settle);
        });
      },
      (error: unknown) => {
        for (const call of batch) settle(call, storeError(error));
      },
    );
  }

  /** NOSCRIPT (a restart, a failover, SCRIPT FLUSH): send the source once with EVAL, which caches it again. */
  private retryOnNoScript(call: Pending, error: unknown, settle: (call: Pending, outcome: unknown) => void): void {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT') || call.settled) {
      settle(call, storeError(error));
      return;
    }
    this.client.eval(call.script.source, call.numKeys, ...call.argv).then(
      (reply) => settle(call, { reply }),
      (retryError: unknown) => settle(call, storeError(retryError)),
    );
  }

  /** `outcome` is `{ reply }` or a SessionStoreError. */
  private settle(call: Pending, outcome: unknown): void {
    if (call.settled) return;
    call.settled = true;
    if (outcome instanceof SessionStoreError) call.reject(outcome);
    else call.resolve((outcome as { reply: unknown }).reply);
  }
}

function storeError(error: unknown): SessionStoreError {
  const message = error instanceof Error ? error.message : String(error);
  const replied = error instanceof Error && error.name === 'ReplyError';
  return new SessionStoreError(replied ? 'error' : 'unavailable', `session store: ${message}`, { cause: error });
}
