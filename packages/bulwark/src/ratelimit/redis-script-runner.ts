/**
 * Runs the rate-limit Lua scripts on Redis: EVALSHA, batched per event-loop tick, one deadline per
 * batch, falling back to EVAL (which also caches the script again) only when Redis answers NOSCRIPT.
 *
 * Why batch: a decision is a few microseconds of Lua, while a command costs the client a command
 * object, a promise and its encoding, and costs Redis a call, the marshalling of its arguments and
 * a `TIME`. So the decisions requested in one tick that use the same script go to Redis as ONE
 * EVALSHA evaluating all of them (at most {@link MAX_DECISIONS_PER_CALL}), and the commands of a
 * tick go out in one pipeline. Each decision is still evaluated atomically, in order, by one script
 * run, and answered in one round trip; a multi-limit decision stays all-or-nothing within it.
 *
 * On Redis Cluster all keys of one EVALSHA must share a slot and a pipeline must stay on one node,
 * so decisions are grouped by slot (the hash tag of their identity) and commands by node.
 */
import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import { LIMIT_REFERENCE, type LuaScript } from './lua-scripts.js';

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

/** Decisions evaluated by one EVALSHA at most: bounds how long one script call holds Redis. */
export const MAX_DECISIONS_PER_CALL = 128;

/**
 * Decisions sent per flush at most; the rest wait for the next turn of the event loop. Sent all at
 * once, a burst of decisions (a closed loop of 256, or many requests read in one tick) makes one
 * round trip whose replies all arrive together: the process then handles every reply while Redis
 * idles, and Redis evaluates every next decision while the process idles — client and Redis in
 * lockstep. Sent in slices, with the event loop reading replies in between, each side works on one
 * slice while the other works on the next: 2.2× the decisions per second with 256 in flight on two
 * cores (bench/RESULTS.md). A lone decision or a small burst is sent at once, as before. A slice's
 * deadline starts when it is sent: at most a few turns of the event loop after the call.
 */
export const MAX_DECISIONS_PER_FLUSH = MAX_DECISIONS_PER_CALL;

/** Receives a decision's share of a batched reply: the reply array and where its integers start. */
export type DecisionCallback = (reply: readonly unknown[] | StoreFailure, offset: number) => void;

/**
 * A limit as a decision script reads it: six values (algorithm code, limit, window, burst,
 * emission, blocking flag). A batch sends each distinct limit once and the decisions refer to it by
 * position, so a decision costs one argument plus its keys.
 */
export interface ScriptLimit {
  readonly scriptArgs: readonly string[];
}

interface PendingDecision {
  readonly script: LuaScript;
  /** One key, or the keys of every limit in order. */
  readonly keys: string | readonly string[];
  readonly limits: ScriptLimit | readonly ScriptLimit[];
  readonly costs: number | readonly number[];
  /** Integers this decision takes from the reply. */
  readonly results: number;
  readonly node: string;
  readonly slot: number;
  readonly callback: DecisionCallback;
  settled: boolean;
}

interface PendingCommand {
  readonly script: LuaScript;
  readonly numKeys: number;
  readonly argv: readonly (string | number)[];
  readonly node: string;
  readonly resolve: (value: unknown) => void;
  settled: boolean;
}

/** One command of a flush: a batch of decisions, or one raw script call (leases). */
interface Outgoing {
  readonly script: LuaScript;
  readonly numKeys: number;
  readonly argv: readonly (string | number)[];
  readonly node: string;
  readonly decisions: readonly PendingDecision[] | undefined;
  readonly command: PendingCommand | undefined;
}

export interface ScriptRunnerOptions {
  readonly timeoutMs: number;
  /** Batch the calls of one tick. */
  readonly batch: boolean;
  /** ARGV[1] of a decision batch: '' for Redis `TIME`, or the client clock in µs. */
  readonly clockArgument: () => string | number;
  /** Told the duration of every flush (seconds) and every failure. */
  readonly onLatency: (seconds: number) => void;
  readonly onFailure: (failure: StoreFailure) => void;
  readonly onScriptReload: () => void;
}

export type RedisClient = Redis | Cluster;

function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

function isArray<T>(value: T | readonly T[]): value is readonly T[] {
  return Array.isArray(value);
}

export class ScriptRunner {
  private decisions: PendingDecision[] = [];
  private commands: PendingCommand[] = [];
  private scheduled = false;
  private readonly standaloneNode: string;
  private readonly cluster: boolean;
  private readonly flushQueue = (): void => this.flush();

  constructor(
    private readonly client: RedisClient,
    private readonly options: ScriptRunnerOptions,
  ) {
    this.cluster = isCluster(client);
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
    return client.slots[calculateSlot(hashTag)]?.[0] ?? 'unknown';
  }

  /**
   * Queues one decision (one limit, or several on one identity: `limits` and `costs` as arrays) for
   * `script`. `callback` gets the batched reply and the offset of this decision's integers, or a
   * {@link StoreFailure}; it is always called, within the timeout.
   */
  decide(script: LuaScript, keys: string | readonly string[], limits: ScriptLimit | readonly ScriptLimit[], costs: number | readonly number[], hashTag: string, callback: DecisionCallback): void {
    const slot = this.cluster ? calculateSlot(hashTag) : 0;
    const results = Array.isArray(limits) ? limits.length * 4 : 4;
    this.decisions.push({ script, keys, limits, costs, results, node: this.nodeFor(hashTag), slot, callback, settled: false });
    this.schedule();
  }

  /** Runs one script call (not batched with others). Resolves with the reply or a {@link StoreFailure}. */
  run(script: LuaScript, numKeys: number, argv: readonly (string | number)[], hashTag: string): Promise<unknown> {
    return new Promise((resolve) => {
      this.commands.push({ script, numKeys, argv, node: this.nodeFor(hashTag), resolve, settled: false });
      this.schedule();
    });
  }

  private schedule(): void {
    if (!this.options.batch) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      // After the promise jobs of this tick: every call made while handling one socket read
      // (the continuations of the previous batch) lands in the same batch.
      process.nextTick(this.flushQueue);
    }
  }

  private flush(): void {
    let decisions = this.decisions;
    const commands = this.commands;
    if (decisions.length > MAX_DECISIONS_PER_FLUSH) {
      // The rest go out in the next turn of the event loop, after its I/O (see MAX_DECISIONS_PER_FLUSH).
      this.decisions = decisions.slice(MAX_DECISIONS_PER_FLUSH);
      decisions = decisions.slice(0, MAX_DECISIONS_PER_FLUSH);
      setImmediate(this.flushQueue);
    } else {
      this.decisions = [];
      this.scheduled = false;
    }
    this.commands = [];
    const outgoing = this.group(decisions, commands);
    if (outgoing.length === 0) return;
    const started = performance.now();
    let open = decisions.length + commands.length;
    const done = (): void => {
      open -= 1;
      if (open === 0) {
        clearTimeout(timer);
        this.options.onLatency((performance.now() - started) / 1000);
      }
    };
    const settleDecision = (decision: PendingDecision, reply: readonly unknown[] | StoreFailure, offset: number): void => {
      if (decision.settled) return;
      decision.settled = true;
      decision.callback(reply, offset);
      done();
    };
    const settleCommand = (command: PendingCommand, value: unknown): void => {
      if (command.settled) return;
      command.settled = true;
      command.resolve(value);
      done();
    };
    const settle = (item: Outgoing, value: unknown): void => {
      if (value instanceof StoreFailure) this.options.onFailure(value);
      if (item.command !== undefined) {
        settleCommand(item.command, value);
        return;
      }
      const reply = Array.isArray(value) ? (value as readonly unknown[]) : value instanceof StoreFailure ? value : new StoreFailure('script', 'unexpected reply from the rate-limit script', item.node);
      let offset = 0;
      for (const decision of item.decisions ?? []) {
        settleDecision(decision, reply, offset);
        offset += decision.results;
      }
    };
    const expire = (): void => {
      for (const item of outgoing) {
        const pending = item.command === undefined ? (item.decisions?.some((decision) => !decision.settled) ?? false) : !item.command.settled;
        if (pending) settle(item, new StoreFailure('timeout', `no answer within ${this.options.timeoutMs} ms`, item.node));
      }
    };
    // Judged after the I/O of this loop iteration (timers run before the poll phase, immediates
    // after it): when the process was too busy to run the timer on time, a reply that arrived
    // meanwhile is read first, and only one Redis really did not send counts as a timeout.
    const timer = setTimeout(() => setImmediate(expire), this.options.timeoutMs);
    timer.unref?.();
    if (!isCluster(this.client)) {
      this.send(this.client, outgoing, settle);
      return;
    }
    const byNode = new Map<string, Outgoing[]>();
    for (const item of outgoing) {
      const group = byNode.get(item.node);
      if (group === undefined) byNode.set(item.node, [item]);
      else group.push(item);
    }
    for (const group of byNode.values()) this.send(this.client, group, settle);
  }

  /** The commands of one flush: decisions batched per script (and per slot on a Cluster), raw calls as they are. */
  private group(decisions: readonly PendingDecision[], commands: readonly PendingCommand[]): Outgoing[] {
    const outgoing: Outgoing[] = [];
    const batches = new Map<string, PendingDecision[]>();
    for (const decision of decisions) {
      const id = this.cluster ? `${decision.script.name}\u0000${decision.slot}` : decision.script.name;
      let batch = batches.get(id);
      if (batch === undefined || batch.length === MAX_DECISIONS_PER_CALL) {
        if (batch !== undefined) outgoing.push(this.batchCommand(batch));
        batch = [];
        batches.set(id, batch);
      }
      batch.push(decision);
    }
    for (const batch of batches.values()) outgoing.push(this.batchCommand(batch));
    for (const command of commands) outgoing.push({ script: command.script, numKeys: command.numKeys, argv: command.argv, node: command.node, decisions: undefined, command });
    return outgoing;
  }

  /**
   * One EVALSHA for a batch: KEYS = every decision's keys in order; ARGV = the time, the number of
   * distinct limits, six values per limit, then per decision `reference` (one limit) or `-n` and n
   * references (several limits, all or nothing).
   */
  private batchCommand(batch: readonly PendingDecision[]): Outgoing {
    const keys: (string | number)[] = [];
    const decisions: (string | number)[] = [];
    const positions = new Map<ScriptLimit, number>();
    const limits: (string | number)[] = [];
    const reference = (limit: ScriptLimit, cost: number): number => {
      let position = positions.get(limit);
      if (position === undefined) {
        position = positions.size;
        positions.set(limit, position);
        for (const value of limit.scriptArgs) limits.push(value);
      }
      return position * LIMIT_REFERENCE + cost;
    };
    for (const decision of batch) {
      if (typeof decision.keys === 'string') keys.push(decision.keys);
      else for (const key of decision.keys) keys.push(key);
      const { limits: decisionLimits, costs } = decision;
      if (!isArray(decisionLimits)) {
        decisions.push(reference(decisionLimits, costs as number));
        continue;
      }
      decisions.push(-decisionLimits.length);
      decisionLimits.forEach((limit, index) => decisions.push(reference(limit, (costs as readonly number[])[index] ?? 0)));
    }
    const first = batch[0] as PendingDecision;
    const numKeys = keys.length;
    keys.push(this.options.clockArgument(), positions.size);
    for (const value of limits) keys.push(value);
    for (const value of decisions) keys.push(value);
    return { script: first.script, numKeys, argv: keys, node: first.node, decisions: batch, command: undefined };
  }

  private send(target: RedisClient, items: readonly Outgoing[], settle: (item: Outgoing, value: unknown) => void): void {
    const only = items.length === 1 ? items[0] : undefined;
    if (only !== undefined) {
      target.evalsha(only.script.sha, only.numKeys, ...only.argv).then(
        (reply) => settle(only, reply),
        (error: unknown) => this.retryOnNoScript(target, only, error, settle),
      );
      return;
    }
    const pipeline = target.pipeline();
    for (const item of items) pipeline.evalsha(item.script.sha, item.numKeys, ...item.argv);
    pipeline.exec().then(
      (replies) => {
        items.forEach((item, index) => {
          const [error, reply] = replies?.[index] ?? [new Error('pipeline returned no reply'), undefined];
          if (error === null) settle(item, reply);
          else this.retryOnNoScript(target, item, error, settle);
        });
      },
      (error: unknown) => {
        for (const item of items) settle(item, this.failure(error, item.node));
      },
    );
  }

  /** NOSCRIPT (a restart, a failover, SCRIPT FLUSH): send the source once with EVAL, which caches it again. */
  private retryOnNoScript(target: RedisClient, item: Outgoing, error: unknown, settle: (item: Outgoing, value: unknown) => void): void {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) {
      settle(item, this.failure(error, item.node));
      return;
    }
    this.options.onScriptReload();
    target.eval(item.script.source, item.numKeys, ...item.argv).then(
      (reply) => settle(item, reply),
      (retryError: unknown) => settle(item, this.failure(retryError, item.node)),
    );
  }

  private failure(error: unknown, node: string): StoreFailure {
    const message = error instanceof Error ? error.message : String(error);
    // A reply error means Redis answered: the script or its data is wrong, not the connection.
    const replied = error instanceof Error && error.name === 'ReplyError';
    const kind: StoreFailureKind = replied ? (/script|WRONGTYPE/i.test(message) ? 'script' : 'error') : 'connection';
    return new StoreFailure(kind, message, node);
  }
}
