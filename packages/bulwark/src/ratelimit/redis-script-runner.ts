/**
 * Runs the rate-limit Lua scripts on Redis: EVALSHA, batched per event-loop tick, with one deadline
 * per batch, falling back to EVAL (which also loads the script) only when Redis answers NOSCRIPT.
 *
 * Why batch: a decision is one small EVALSHA, and with hundreds in flight the cost is dominated by
 * one socket write and one promise chain per command. Calls made in the same tick go out as one
 * pipeline (one write); Redis still runs each script atomically on its own, so batching changes
 * nothing about correctness. (ioredis' `enableAutoPipelining` does something similar but measured
 * slower for the peers; this batcher is measured in bench/src/ratelimit-redis.bench.ts.)
 *
 * On Redis Cluster a pipeline may only hold keys served by one node, so a batch is split per node
 * (the slot of each call's hash tag, looked up in the client's slot table).
 */
import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import type { LuaScript } from './lua-scripts.js';

/** Why a store call failed. */
export type StoreFailureKind = 'timeout' | 'connection' | 'script' | 'error';

/** A failed store call, as a value (the store turns it into a decision per `onStoreFailure`). */
export class StoreFailure {
  constructor(
    readonly kind: StoreFailureKind,
    readonly message: string,
    readonly node: string,
  ) {}
}

interface PendingCall {
  readonly script: LuaScript;
  readonly argv: readonly (string | number)[];
  readonly numKeys: number;
  readonly node: string;
  readonly resolve: (value: unknown) => void;
  settled: boolean;
}

export interface ScriptRunnerOptions {
  readonly timeoutMs: number;
  /** Batch the calls of one tick into a pipeline. */
  readonly batch: boolean;
  /** Told the duration of every batch (seconds) and every failure. */
  readonly onLatency: (seconds: number) => void;
  readonly onFailure: (failure: StoreFailure) => void;
  readonly onScriptReload: () => void;
}

export type RedisClient = Redis | Cluster;

function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

export class ScriptRunner {
  private queue: PendingCall[] = [];
  private scheduled = false;
  private readonly standaloneNode: string;
  private readonly flushQueue = (): void => this.flush();

  constructor(
    private readonly client: RedisClient,
    private readonly options: ScriptRunnerOptions,
  ) {
    const { host, port } = isCluster(client) ? { host: undefined, port: undefined } : client.options;
    this.standaloneNode = host === undefined ? 'redis' : `${host}:${String(port)}`;
  }

  /**
   * The node serving `hashTag` (its `host:port`), or `unknown` while a Cluster client has no slot
   * table yet. Breakers are kept per node, so one failed master degrades only its own keys.
   */
  nodeFor(hashTag: string): string {
    const client = this.client;
    if (!isCluster(client)) return this.standaloneNode;
    const nodes = client.slots[calculateSlot(hashTag)];
    return nodes?.[0] ?? 'unknown';
  }

  /**
   * Runs `script` with `argv` = keys then arguments. Resolves with the reply or a
   * {@link StoreFailure}; never rejects, and always settles within the timeout.
   */
  run(script: LuaScript, numKeys: number, argv: readonly (string | number)[], hashTag: string): Promise<unknown> {
    return new Promise((resolve) => {
      this.queue.push({ script, argv, numKeys, node: this.nodeFor(hashTag), resolve, settled: false });
      if (!this.options.batch) {
        this.flush();
        return;
      }
      if (!this.scheduled) {
        this.scheduled = true;
        // After the promise jobs of this tick: every call made while handling one socket read
        // (continuations of the previous batch) lands in the same batch.
        process.nextTick(this.flushQueue);
      }
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    if (batch.length === 0) return;
    const started = performance.now();
    let open = batch.length;
    const timer = setTimeout(() => {
      for (const call of batch) this.settle(call, new StoreFailure('timeout', `no answer within ${this.options.timeoutMs} ms`, call.node));
    }, this.options.timeoutMs);
    timer.unref?.();
    const settleOne = (call: PendingCall, value: unknown): void => {
      if (call.settled) return;
      this.settle(call, value);
      open -= 1;
      if (open === 0) {
        clearTimeout(timer);
        this.options.onLatency((performance.now() - started) / 1000);
      }
    };
    if (!isCluster(this.client)) {
      this.send(this.client, batch, settleOne);
      return;
    }
    const byNode = new Map<string, PendingCall[]>();
    for (const call of batch) {
      const group = byNode.get(call.node);
      if (group === undefined) byNode.set(call.node, [call]);
      else group.push(call);
    }
    for (const group of byNode.values()) this.send(this.client, group, settleOne);
  }

  private send(target: RedisClient, calls: readonly PendingCall[], settle: (call: PendingCall, value: unknown) => void): void {
    const only = calls.length === 1 ? calls[0] : undefined;
    if (only !== undefined) {
      target.evalsha(only.script.sha, only.numKeys, ...only.argv).then(
        (reply) => settle(only, reply),
        (error: unknown) => this.retryOnNoScript(target, only, error, settle),
      );
      return;
    }
    const pipeline = target.pipeline();
    for (const call of calls) pipeline.evalsha(call.script.sha, call.numKeys, ...call.argv);
    pipeline.exec().then(
      (replies) => {
        calls.forEach((call, index) => {
          const [error, reply] = replies?.[index] ?? [new Error('pipeline returned no reply'), undefined];
          if (error === null) settle(call, reply);
          else this.retryOnNoScript(target, call, error, settle);
        });
      },
      (error: unknown) => {
        for (const call of calls) settle(call, this.failure(error, call.node));
      },
    );
  }

  /** NOSCRIPT (a restart, a failover, SCRIPT FLUSH): send the source once with EVAL, which caches it again. */
  private retryOnNoScript(target: RedisClient, call: PendingCall, error: unknown, settle: (call: PendingCall, value: unknown) => void): void {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT') || call.settled) {
      settle(call, this.failure(error, call.node));
      return;
    }
    this.options.onScriptReload();
    target.eval(call.script.source, call.numKeys, ...call.argv).then(
      (reply) => settle(call, reply),
      (retryError: unknown) => settle(call, this.failure(retryError, call.node)),
    );
  }

  private settle(call: PendingCall, value: unknown): void {
    if (call.settled) return;
    call.settled = true;
    if (value instanceof StoreFailure) this.options.onFailure(value);
    call.resolve(value);
  }

  private failure(error: unknown, node: string): StoreFailure {
    const message = error instanceof Error ? error.message : String(error);
    // A reply error means Redis answered: the script or its data is wrong, not the connection.
    const replied = error instanceof Error && error.name === 'ReplyError';
    const kind: StoreFailureKind = replied ? (/script|WRONGTYPE/i.test(message) ? 'script' : 'error') : 'connection';
    return new StoreFailure(kind, message, node);
  }
}
