/**
 * A logger's pipeline, shared by a root logger and all its children: the
 * ring and dictionary they write into, the recorder that encodes, the
 * {@link DrainHost} that empties the ring into the sinks (inline, in a
 * worker, or on another thread), snapshots, metrics, ports for other
 * threads, and the ending.
 *
 * @module
 */

import { type Directives, levelFor, parseDirectives } from "../directives.ts";
import { CoarseClock, whenClockReady } from "../drain/clock.ts";
import type { Control } from "../drain/control.ts";
import { Drain, percentile } from "../drain/drain.ts";
import type { DrainHost } from "../drain/host.ts";
import { InlineHost } from "../drain/inline.ts";
import { RemoteHost } from "../drain/remote.ts";
import { WorkerHost } from "../drain/worker_host.ts";
import { TtlogConfigError } from "../errors.ts";
import type { LevelValue } from "../level.ts";
import type { Metrics } from "../metrics.ts";
import {
  allocateDictionary,
  type DictionaryMemory,
  DictionaryWriter,
} from "../record/dictionary.ts";
import { Recorder, safeString } from "../record/encode.ts";
import {
  allocateRing,
  CTL_WAITING,
  OVERFLOW_CODES,
  type RingMemory,
  S_EMITTED,
  S_FILTERED,
  S_LOSS_RECORDS,
  S_LOST,
} from "../ring/ring.ts";
import { runtime } from "../runtime/mod.ts";
import { canStartWorker, usableCpus } from "../runtime/worker.ts";
import { consoleSink } from "../sinks/console.ts";
import type { Sink } from "../sinks/sink.ts";
import {
  ReplayMemory,
  type ReplayRequest,
  type ReplayResult,
  type ReplayStart,
} from "../snapshot/replay.ts";
import { StoreRunner } from "../snapshot/store.ts";
import { SnapshotTriggers, watchEnding } from "../snapshot/triggers.ts";
import type { SnapshotProducer } from "../snapshot/writer.ts";
import type { LoggerOptions, Settings } from "./options.ts";
import type { LoggerPort } from "./types.ts";

/** Shared memory of a producer attached from another thread. */
export interface AttachedMemory {
  readonly ring: RingMemory;
  readonly dictionary: DictionaryMemory;
  readonly control: Control;
  /** The owner's coarse clock, if it has one. */
  readonly clock: Float64Array | null;
}

/** What one logger (root or child) adds to the pipeline: its target and bound fields. */
export interface Context {
  readonly target: string;
  readonly targetId: number;
  readonly bound: Uint8Array | null;
  /** The lower of the record level and the target's emit level. */
  readonly threshold: LevelValue;
}

/** The part of a logger its children share (see the module doc). */
export class Pipeline {
  readonly settings: Settings;
  /** The options as given (read once), for ports. */
  readonly options: LoggerOptions;
  readonly ring: RingMemory;
  readonly dictionaryMemory: DictionaryMemory;
  readonly recorder: Recorder;
  /** The drain, when it runs on this thread. */
  readonly drain: Drain | undefined;
  readonly host: DrainHost;
  /** The coarse clock this logger owns, if any. */
  clock: CoarseClock | undefined;
  readonly directives: Directives | undefined;
  /** Every ring of this logger (its own, then those handed out by port()). */
  readonly producers: SnapshotProducer[] = [];
  /** The snapshot store, if there is one. */
  readonly stores: StoreRunner | undefined;
  readonly snapshots: SnapshotTriggers;
  /** Events replayed so far, and what keeps each to one replay. */
  replayed = 0;
  replays = 0;
  readonly replayMemory: ReplayMemory = new ReplayMemory();
  #removeExitHooks: () => void = () => {};
  #closing: Promise<void> | undefined;
  /** Target ids by target: a child per request must not add a dictionary entry each time. */
  #targetIds = new Map<string, number>();

  constructor(
    options: LoggerOptions,
    settings: Settings,
    attached?: AttachedMemory,
  ) {
    this.options = options;
    this.settings = settings;
    const store = settings.snapshot.store;
    this.stores = store === undefined ? undefined : new StoreRunner(store);
    this.directives = settings.directives === undefined
      ? undefined
      : parseDirectives(settings.directives);
    const dictionaryMemory = attached?.dictionary ??
      allocateDictionary(settings.dictionaryBytes);
    const memory = attached?.ring ??
      allocateRing(
        settings.ringBytes,
        settings.maxRecordBytes,
        settings.overflow,
      );
    this.ring = memory;
    this.dictionaryMemory = dictionaryMemory;
    // Only this thread writes a ring it allocated, so a snapshot reads it
    // in place; a ring from another thread's port() is copied (the port
    // could have been attached twice).
    this.producers.push({
      ring: memory,
      dictionary: dictionaryMemory,
      local: attached === undefined,
    });
    this.recorder = new Recorder(
      memory,
      new DictionaryWriter(dictionaryMemory),
      {
        maxRecord: settings.maxRecordBytes,
        policy: OVERFLOW_CODES[settings.overflow],
        limits: settings.limits,
        redact: settings.redact,
      },
    );
    const report = (message: string) => runtime.write("stderr", message + "\n");
    this.recorder.onStaleClock = (lag) =>
      report(
        `ttlog: the coarse clock is ${lag} ms behind; reading Date.now() for every event from now on`,
      );
    this.snapshots = new SnapshotTriggers(settings.snapshot, {
      service: settings.service,
      producers: this.producers,
      stores: this.stores,
      metrics: () => this.metrics(),
      lastSeq: () => this.recorder.seq - 1,
    });
    if (attached !== undefined) {
      const clock = attached.clock;
      if (clock !== null) {
        whenClockReady(clock.buffer as SharedArrayBuffer, () => {
          if (this.#closing === undefined) this.recorder.coarse = clock;
        });
      }
      this.drain = undefined;
      this.host = new RemoteHost(attached.control, memory, this.recorder);
      return;
    }
    if (settings.clock === "coarse") {
      const clock = this.clock = new CoarseClock();
      clock.onReady(() => {
        if (this.#closing === undefined) this.recorder.coarse = clock.now;
      });
    }
    const sinks = settings.sinks ?? [consoleSink()];
    const makeDrain = () => {
      const drain = new Drain({
        service: settings.service,
        sinks,
        emitLevel: (target) => this.emitLevelFor(target),
        report,
      });
      drain.add({ ring: memory, dictionary: dictionaryMemory });
      return drain;
    };
    if (useWorker(settings.worker, sinks)) {
      this.drain = undefined;
      this.host = new WorkerHost({
        recorder: this.recorder,
        ring: memory,
        dictionary: dictionaryMemory,
        sinks,
        service: settings.service,
        level: settings.level,
        directives: settings.directives,
        makeDrain,
        report,
      });
    } else {
      this.drain = makeDrain();
      this.host = new InlineHost(this.drain, this.recorder);
    }
    this.#removeExitHooks = watchEnding({
      triggers: this.snapshots,
      host: this.host,
      recorded: () => this.recorder.recorded,
      exitTimeoutMs: settings.exitTimeoutMs,
      report,
    });
  }

  emitLevelFor(target: string): LevelValue {
    const level = this.settings.level;
    return this.directives === undefined
      ? level
      : levelFor(this.directives, target, level);
  }

  context(target: string, bound: Uint8Array | null): Context {
    const emit = this.emitLevelFor(target);
    const record = this.settings.recordLevel;
    return {
      target,
      targetId: this.#targetId(target),
      bound,
      threshold: (emit < record ? emit : record) as LevelValue,
    };
  }

  #targetId(target: string): number {
    let id = this.#targetIds.get(target);
    if (id === undefined) {
      id = this.recorder.targetId(target);
      // Bounded by the dictionary: once it is full, ids are 0 and not kept.
      if (id !== 0) this.#targetIds.set(target, id);
    }
    return id;
  }

  metrics(): Metrics {
    const r = this.recorder;
    const host = this.host;
    const { times, count } = host.passTimes();
    const logged = r.recorded + r.dropped;
    const used = r.used();
    // This producer's own accounting, kept by the drain in the ring.
    const stats = this.ring.stats;
    const emitted = stats[S_EMITTED];
    const filtered = stats[S_FILTERED];
    const lost = stats[S_LOST];
    return {
      service: this.settings.service,
      logged,
      recorded: r.recorded,
      recordedBytes: r.recordedBytes,
      emitted,
      filtered,
      dropped: r.dropped,
      lost,
      pending: logged - emitted - filtered - r.dropped - lost,
      lossRecords: stats[S_LOSS_RECORDS],
      ringBytes: this.settings.ringBytes,
      ringUsed: used,
      ringHighWater: Math.max(r.highWater, used),
      dictionaryEntries: r.dictionary.count,
      dictionaryBytes: r.dictionary.bytes,
      drainPasses: count,
      drainBatchMsP50: percentile(times, count, 0.5),
      drainBatchMsP99: percentile(times, count, 0.99),
      worker: host.inWorker,
      workerRestarts: host.restarts,
      replayed: this.replayed,
      replays: this.replays,
      snapshotsStored: this.stores?.counters.stored ?? 0,
      snapshotStoreErrors: this.stores?.counters.errors ?? 0,
      snapshotStoresPending: this.stores?.counters.pending ?? 0,
      sinks: host.sinkMetrics(),
    };
  }

  /** Resolves when the drain has delivered what was logged, and the store has what was taken. */
  flush(): Promise<void> {
    const stores = this.stores;
    if (stores === undefined) return this.host.flush();
    // Checked after the drain's flush: a snapshot asked for just before
    // (taken in a microtask) has reached the store by then.
    return this.host.flush().then(() =>
      stores.settle(this.settings.exitTimeoutMs)
    ).then(() => {});
  }

  /**
   * `log.replay()`: the events matching `where` that the rings still hold
   * and that were recorded but not emitted, to the sinks, each at most once.
   */
  replay(
    reason: string,
    request: ReplayRequest | undefined,
    start?: ReplayStart,
  ): ReplayResult {
    if (typeof reason !== "string" || reason === "") {
      throw new TtlogConfigError(
        `replay: reason must be a non-empty string, got ${
          typeof reason === "string" ? '""' : safeString(reason)
        }`,
      );
    }
    const where = request?.where;
    const since = request?.since;
    if (
      request !== undefined &&
      (typeof request !== "object" || request === null ||
        Object.keys(request).some((key) => key !== "where" && key !== "since"))
    ) {
      throw new TtlogConfigError(
        `replay: options must be { where, since? }, got ${
          safeString(JSON.stringify(request) ?? request)
        }`,
      );
    }
    if (
      typeof where !== "object" || where === null || Array.isArray(where) ||
      Object.keys(where).length === 0
    ) {
      throw new TtlogConfigError(
        `replay: options.where must name the fields of the events to replay, such as { request_id: "r-1" }, got ${
          safeString(JSON.stringify(where) ?? where)
        }`,
      );
    }
    if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) {
      throw new TtlogConfigError(
        `replay: options.since must be a count from metrics().recorded, got ${
          safeString(since)
        }`,
      );
    }
    this.#ownDrain("replay");
    const selection = this.replayMemory.select(
      this.producers,
      where,
      (target) => this.emitLevelFor(target),
      this.recorder,
      start ?? { position: undefined, recorded: since ?? 0 },
    );
    const overwritten = selection.overwritten;
    const result: ReplayResult = {
      replayed: selection.replayed,
      emitted: selection.emitted,
      overwritten,
    };
    // Nothing found and nothing lost: no summary event either.
    if (selection.replayed === 0 && overwritten === 0) return result;
    this.replayed += selection.replayed;
    this.replays++;
    this.host.replay({
      reason,
      batches: selection.batches,
      time: Date.now(),
      fields: { ...where, ...result },
    });
    return result;
  }

  /** Throws unless this logger owns its drain and is open. */
  #ownDrain(what: string): void {
    if (!this.host.ownsDrain) {
      throw new TtlogConfigError(
        `${what}: this logger is attached to a drain on another thread; call ${what}() on the logger that owns the drain`,
      );
    }
    if (this.#closing !== undefined) {
      throw new TtlogConfigError(`${what}: the logger is closed`);
    }
  }

  port(): LoggerPort {
    this.#ownDrain("port");
    const settings = this.settings;
    const ring = allocateRing(
      settings.ringBytes,
      this.recorder.maxRecord,
      settings.overflow,
    );
    const dictionary = allocateDictionary(settings.dictionaryBytes);
    if (!(ring.buffer instanceof SharedArrayBuffer)) {
      throw new TtlogConfigError(
        `port: this runtime has no SharedArrayBuffer, so no other thread can log into this drain`,
      );
    }
    const control = this.host.addProducer(ring, dictionary);
    this.producers.push({ ring, dictionary });
    // What cannot cross threads stays here: the sinks, and a store (a
    // function); the other thread's snapshots, if any, go to files.
    const { sinks: _sinks, worker: _worker, snapshot, ...rest } = this.options;
    const { store: _store, ...snapshotRest } = snapshot ?? {};
    return {
      kind: "ttlog-port",
      ring: ring.buffer,
      dictionary: dictionary.buffer as SharedArrayBuffer,
      control,
      clock: this.clock === undefined
        ? undefined
        : this.clock.now.buffer as SharedArrayBuffer,
      options: {
        ...rest,
        ...(snapshot === undefined ? {} : { snapshot: snapshotRest }),
        directives: settings.directives ?? "",
      },
    };
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#removeExitHooks();
    const timeout = this.settings.exitTimeoutMs;
    const host = this.host;
    const closed = host.close();
    // Bounded by exitTimeoutMs without progress: a drain still reading a
    // backlog goes on, a sink that never settles does not hold the end.
    const stats = this.ring.stats;
    const progress = () => stats[S_EMITTED] + stats[S_FILTERED] + stats[S_LOST];
    let seen = progress();
    let done = !host.ownsDrain;
    if (done) await closed;
    while (!done) {
      done = await within(closed, timeout);
      const now = progress();
      if (done || now === seen) break;
      seen = now;
    }
    if (!done) {
      // A sink that never settles (an endpoint that accepts and never
      // answers) must not hold the end: it gives up, counting what it did
      // not deliver as dropped.
      host.abort();
      const ended = await within(closed, Math.min(1000, timeout));
      runtime.write(
        "stderr",
        `ttlog: close() gave up on the sinks after exitTimeoutMs (${timeout} ms); what they had not delivered is counted as dropped${
          ended ? "" : " (a sink is still closing)"
        }\n`,
      );
    }
    await this.stores?.settle(timeout);
    if (this.clock !== undefined) {
      this.recorder.coarse = null;
      await this.clock.stop();
    }
    let warned = false;
    // Events logged after close stay in the ring (a snapshot still sees
    // them) but reach no sink: say so once rather than lose them silently.
    this.recorder.wake = () => {
      if (warned) return;
      warned = true;
      runtime.write(
        "stderr",
        "ttlog: events logged after close() are not delivered to sinks\n",
      );
    };
    Atomics.store(this.recorder.ctl, CTL_WAITING, 1);
  }
}

/** Whether `promise` settles within `ms` (its rejection counts as settled). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise.then(() => true, () => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the drain goes to a worker; throws when `worker: true` cannot be honoured. */
function useWorker(worker: boolean | "auto", sinks: readonly Sink[]): boolean {
  if (worker === false) return false;
  const local = sinks.find((sink) => sink.spec === undefined);
  if (worker === true) {
    if (!canStartWorker()) {
      throw new TtlogConfigError(
        `createLogger: worker: true needs worker threads and SharedArrayBuffer, which this runtime does not have (use worker: "auto" or false)`,
      );
    }
    if (local !== undefined) {
      throw new TtlogConfigError(
        `createLogger: worker: true, but sink "${local.name}" cannot run in a worker (it has no spec to rebuild it there); use worker: "auto" or false to drain on this thread`,
      );
    }
    return true;
  }
  // On one CPU a worker cannot run beside the app: its work comes out of the
  // same core, plus the cost of waking it. The caller's thread drains then.
  return local === undefined && canStartWorker() && (usableCpus() ?? 2) > 1;
}
