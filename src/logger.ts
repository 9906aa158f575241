/**
 * The logger API: `createLogger`, level methods, children, flush, metrics,
 * close.
 *
 * @module
 */

import {
  type Directives,
  isValidTarget,
  levelFor,
  parseDirectives,
} from "./directives.ts";
import { Drain, percentile } from "./drain/drain.ts";
import { InlineHost } from "./drain/inline.ts";
import { type Control, viewControl } from "./drain/control.ts";
import { RemoteHost } from "./drain/remote.ts";
import { CoarseClock, whenClockReady } from "./drain/clock.ts";
import {
  buildSnapshot,
  snapshotBytes,
  type SnapshotProducer,
  writeSnapshotFile,
} from "./snapshot/writer.ts";
import { StoreRunner } from "./snapshot/store.ts";
import {
  ReplayMemory,
  type ReplayRequest,
  type ReplayResult,
  type ReplayStart,
} from "./snapshot/replay.ts";
import { initLz4Sync } from "./codec/lz4.ts";
import { WorkerHost } from "./drain/worker_host.ts";
import { onProcessExit } from "./runtime/exit.ts";
import { contextState, currentStore } from "./context.ts";
import { Span } from "./span.ts";
import { canStartWorker, usableCpus } from "./runtime/worker.ts";
import {
  Level,
  type LevelName,
  type LevelValue,
  parseLevel,
  TtlogConfigError,
} from "./level.ts";
import type { Metrics } from "./metrics.ts";
import {
  allocateDictionary,
  type DictionaryMemory,
  DictionaryWriter,
} from "./record/dictionary.ts";
import { DEFAULT_LIMITS, Recorder, safeString } from "./record/encode.ts";
import {
  allocateRing,
  CTL_WAITING,
  OVERFLOW_CODES,
  ringCapacity,
  type RingMemory,
  S_EMITTED,
  S_FILTERED,
  S_LOSS_RECORDS,
  S_LOST,
  viewRing,
} from "./ring/ring.ts";
import { runtime } from "./runtime/mod.ts";
import { consoleSink } from "./sinks/console.ts";
import type { Sink } from "./sinks/sink.ts";

/**
 * Fields: a plain object of values to record beside the message.
 *
 * @example Bind fields
 * ```ts
 * import { createLogger, type Fields, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * const request: Fields = { request_id: "r-42" };
 * const reqLog = log.child(request);
 * reqLog.info("cart loaded", { items: 3 });
 * await log.flush();
 * assert.deepEqual(sink.records[0].fields, { request_id: "r-42", items: 3 });
 * await log.close();
 * ```
 */
export type Fields = Record<string, unknown>;

/**
 * A level method. Three forms:
 * - a tagged template, one call-site id per template:
 *   ``log.info`user ${id} logged in` ``;
 * - a message and fields: `log.info("slow query", { ms: 812 })`;
 * - fields (or an Error) first, pino-style: `log.error(err, "payment failed")`.
 *
 * A log call never throws: values it cannot read are recorded as markers.
 *
 * @example The three forms
 * ```ts
 * import { createLogger, LoggedError, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * const ms = 812;
 * log.warn`query took ${ms}ms`;
 * log.warn("slow query", { ms });
 * log.error(new Error("card declined"), "payment failed");
 * await log.flush();
 * assert.deepEqual(sink.records.map((r) => r.msg), [
 *   "query took 812ms",
 *   "slow query",
 *   "payment failed",
 * ]);
 * assert.equal(sink.records[1].fields.ms, 812);
 * assert.equal((sink.records[2].fields.err as LoggedError).message, "card declined");
 * await log.close();
 * ```
 */
export interface LogMethod {
  /** Logs a tagged template; its values are recorded typed and rendered into the message. */
  (strings: TemplateStringsArray, ...values: unknown[]): void;
  /** Logs a message and optional fields. */
  (msg: string, fields?: Fields): void;
  /** Logs fields or an Error (as `err`) with an optional message. */
  (fields: Fields | Error, msg?: string): void;
}

/**
 * A logger: level methods plus children, flushing and metrics.
 *
 * @example Pass a logger around and use a child
 * ```ts
 * import { createLogger, type Logger, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * function connect(log: Logger): void {
 *   log.info("connected", { host: "db-1" });
 * }
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * const db = log.child("db");
 * connect(db);
 * await log.flush();
 * assert.equal(db.target, "db");
 * assert.equal(sink.records[0].target, "db");
 * assert.equal(db.enabled("debug"), true); // recorded in the ring, though not emitted
 * await log.close();
 * ```
 */
export interface Logger {
  /** Logs at trace level. */
  readonly trace: LogMethod;
  /** Logs at debug level. */
  readonly debug: LogMethod;
  /** Logs at info level. */
  readonly info: LogMethod;
  /** Logs at warn level. */
  readonly warn: LogMethod;
  /** Logs at error level. */
  readonly error: LogMethod;
  /** Logs at fatal level. */
  readonly fatal: LogMethod;
  /** This logger's target (`""` for the root logger). */
  readonly target: string;
  /** Whether an event at `level` would be recorded by this logger. */
  enabled(level: LevelName): boolean;
  /**
   * A child logger: its target is this one's plus `.target` (or just `target`
   * at the root), and `fields` are bound to every event it logs (encoded once).
   * With an object instead of a target, only binds fields.
   */
  child(target: string | Fields, fields?: Fields): Logger;
  /**
   * Starts a span: logs `"<name> started"` at debug now and, when it ends,
   * `"<name> ended"` at info with its duration in `ms`, or `"<name> failed"`
   * at error with `ms` and `err`. `fields` go on both events. Ends with
   * `using`/`await using`, `span.end()`, or `span.run(fn)`, which also
   * catches what `fn` throws (disposal never sees an error: in a `using`
   * block, call `span.fail(error)` in your catch).
   *
   * @example
   * ```ts
   * import { createLogger, memorySink } from "@ttlog/ttlog";
   * import assert from "node:assert/strict";
   * const sink = memorySink();
   * const log = createLogger({ sinks: [sink], level: "debug" });
   * {
   *   using _span = log.span("db.query", { table: "users" });
   *   // ... the query
   * }
   * await log.span("cache.fill").run(async () => {});
   * await log.flush();
   * assert.deepEqual(sink.records.map((r) => r.msg), [
   *   "db.query started", "db.query ended", "cache.fill started", "cache.fill ended",
   * ]);
   * assert.equal(typeof sink.records[1].fields.ms, "number");
   * await log.close();
   * ```
   */
  span(name: string, fields?: Fields): Span;
  /** Resolves when every event logged before the call is in every sink and the sinks have flushed. */
  flush(): Promise<void>;
  /** Counters: logged = emitted + filtered + dropped + lost + pending. */
  metrics(): Metrics;
  /** Flushes, then releases the drain and closes the sinks. Idempotent. */
  close(): Promise<void>;
  /**
   * Writes the last events of every ring of this logger, debug included and
   * whether or not they were emitted, as a .ttlog file; resolves to its
   * path. The file is written in a microtask, from shared memory alone
   * (whatever state the drain is in), so every event logged before the call
   * is in it; calls made before that microtask runs share the file (and the
   * first call's reason). Safe to call from error handlers.
   */
  snapshot(reason?: string, options?: SnapshotRequest): Promise<string>;
  /**
   * Replays into the sinks the events matching `options.where` that the
   * rings still hold and that were recorded but not emitted (below their
   * target's emit level: debug and trace, usually): the lead-up to a
   * failure, after the fact. The sinks that take decoded records get one
   * summary event (target `ttlog`, message `replay: <reason>`, fields
   * `where`'s, `replayed`, `emitted`, `overwritten` and `replay`), then each
   * replayed event in its original order, with its original time, level,
   * target and fields plus `replay: <reason>`. Each event is replayed at
   * most once, whatever the calls. Replayed events are counted in
   * `metrics().replayed`, not as logged or emitted events; raw sinks
   * (.ttlog files) get none (a snapshot holds them). `flush()` waits for
   * the replay's delivery.
   *
   * @param reason Why (each replayed event's `replay` field).
   * @param options `where`: the fields the events carry (a request's
   *   `request_id`, say); `since`: `metrics().recorded` when the work
   *   began, to count in `overwritten` what the ring lost since.
   * @returns The counts (the summary event's fields).
   * @throws {TtlogConfigError} When the reason or options are invalid, the
   *   logger is closed, or it is attached to another thread's drain.
   *
   * @example Replay one job's debug events after it failed
   * ```ts
   * import { createLogger, memorySink } from "@ttlog/ttlog";
   * import assert from "node:assert/strict";
   * const sink = memorySink();
   * const log = createLogger({ level: "info", sinks: [sink] });
   * const job = log.child({ job: 7 });
   * job.debug("fetched", { rows: 3 });
   * log.child({ job: 8 }).debug("fetched", { rows: 5 });
   * job.error("failed");
   * const counts = log.replay("job failed", { where: { job: 7 } });
   * assert.deepEqual(counts, { replayed: 1, emitted: 1, overwritten: 0 });
   * await log.flush();
   * assert.deepEqual(sink.records.map((r) => [r.msg, r.fields.replay]), [
   *   ["failed", undefined],
   *   ["replay: job failed", "job failed"],
   *   ["fetched", "job failed"],
   * ]);
   * assert.equal(log.metrics().replayed, 1);
   * await log.close();
   * ```
   */
  replay(reason: string, options: ReplayRequest): ReplayResult;
  /**
   * A port through which another thread (an application worker) logs into
   * this logger's drain with its own ring: pass it to {@link attachLogger}.
   */
  port(): LoggerPort;
}

/** Shared memory of a producer attached from another thread. */
interface AttachedMemory {
  readonly ring: RingMemory;
  readonly dictionary: DictionaryMemory;
  readonly control: Control;
  /** The owner's coarse clock, if it has one. */
  readonly clock: Float64Array | null;
}

/**
 * What `log.port()` returns: the shared memory another thread needs to log
 * into this logger's drain, and the logger's options. Send it to an
 * application worker (postMessage or workerData) and call
 * {@link attachLogger} there.
 *
 * @example Make a port for a worker
 * ```ts
 * import { attachLogger, createLogger, type LoggerPort, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ service: "api", sinks: [sink] });
 * const port: LoggerPort = log.port(); // worker.postMessage(port)
 * assert.equal(port.kind, "ttlog-port");
 * assert.equal(port.options.service, "api");
 * const remote = attachLogger(port); // in the worker
 * remote.info("job done");
 * await remote.close();
 * await log.flush();
 * assert.equal(sink.records[0].service, "api");
 * await log.close();
 * ```
 */
export interface LoggerPort {
  /** Marks the object as a port. */
  readonly kind: "ttlog-port";
  /** The new producer's ring. */
  readonly ring: SharedArrayBuffer;
  /** The new producer's dictionary. */
  readonly dictionary: SharedArrayBuffer;
  /** The drain's control block (bell and flush requests). */
  readonly control: SharedArrayBuffer;
  /** The owner's coarse clock (`clock: "coarse"`), shared rather than started again. */
  readonly clock?: SharedArrayBuffer;
  /** The logger's options, without sinks. */
  readonly options: Omit<LoggerOptions, "sinks" | "worker">;
}

import {
  type LoggerOptions,
  readOptions,
  type SnapshotRequest,
  type SnapshotTrigger,
  validateOptions,
} from "./options.ts";
export type {
  LoggerOptions,
  RingOptions,
  SnapshotOptions,
  SnapshotRequest,
  SnapshotTrigger,
} from "./options.ts";

interface Context {
  readonly target: string;
  readonly targetId: number;
  readonly bound: Uint8Array | null;
  readonly threshold: LevelValue;
}

class Core {
  readonly service: string;
  readonly ring: RingMemory;
  readonly dictionaryMemory: DictionaryMemory;
  readonly recorder: Recorder;
  /** The drain, when it runs on this thread. */
  readonly drain: Drain | undefined;
  readonly host: InlineHost | WorkerHost | RemoteHost;
  #removeExitHooks: () => void;
  /** The coarse clock this logger owns, if any. */
  clock: CoarseClock | undefined;
  readonly recordLevel: LevelValue;
  readonly emitLevel: LevelValue;
  readonly directives: Directives | undefined;
  readonly ringBytes: number;
  #closing: Promise<void> | undefined;
  /** Target ids by target: a child per request must not add a dictionary entry each time. */
  #targetIds = new Map<string, number>();

  readonly options: LoggerOptions;
  readonly directivesSpec: string | undefined;
  /** Every ring of this logger (its own, then those handed out by port()). */
  readonly producers: SnapshotProducer[] = [];
  /** The snapshot store, if there is one. */
  readonly stores: StoreRunner | undefined;
  /** Events replayed so far, and what keeps each to one replay. */
  replayed = 0;
  replays = 0;
  readonly replayMemory: ReplayMemory = new ReplayMemory();

  constructor(options: LoggerOptions, attached?: AttachedMemory) {
    this.options = options;
    this.service = options.service ?? "app";
    const store = options.snapshot?.store;
    this.stores = store === undefined ? undefined : new StoreRunner(store);
    this.emitLevel = parseLevel(options.level ?? "info", "level");
    this.recordLevel = parseLevel(options.record ?? "debug", "record");
    const spec = options.directives ?? runtime.env("TTLOG");
    this.directivesSpec = spec === undefined || spec.trim() === ""
      ? undefined
      : spec;
    this.directives = this.directivesSpec === undefined
      ? undefined
      : parseDirectives(this.directivesSpec);
    const ring = options.ring ?? {};
    const capacity = ringCapacity(ring.bytes ?? 8 * 1024 * 1024);
    this.ringBytes = capacity;
    const maxRecord = ring.maxRecordBytes ?? Math.min(16384, capacity / 4);
    const dictionaryMemory = attached?.dictionary ?? allocateDictionary(
      options.dictionaryBytes ?? 1 << 20,
    );
    const dictionary = new DictionaryWriter(dictionaryMemory);
    const policy = ring.overflow ?? "overwrite";
    const memory = attached?.ring ?? allocateRing(capacity, maxRecord, policy);
    this.ring = memory;
    this.dictionaryMemory = dictionaryMemory;
    this.producers.push({ ring: memory, dictionary: dictionaryMemory });
    this.recorder = new Recorder(memory, dictionary, {
      maxRecord,
      policy: OVERFLOW_CODES[policy],
      limits: { ...DEFAULT_LIMITS, ...options.limits },
      redact: options.redact ?? [],
    });
    const report = (message: string) => runtime.write("stderr", message + "\n");
    this.recorder.onStaleClock = (lag) =>
      report(
        `ttlog: the coarse clock is ${lag} ms behind; reading Date.now() for every event from now on`,
      );
    if (attached !== undefined) {
      const clock = attached.clock;
      if (clock !== null) {
        whenClockReady(clock.buffer as SharedArrayBuffer, () => {
          if (this.#closing === undefined) this.recorder.coarse = clock;
        });
      }
      this.drain = undefined;
      this.host = new RemoteHost(attached.control, memory, this.recorder);
      this.#removeExitHooks = () => {};
      return;
    }
    if (options.clock === "coarse") {
      const clock = this.clock = new CoarseClock();
      clock.onReady(() => {
        if (this.#closing === undefined) this.recorder.coarse = clock.now;
      });
    }
    const sinks = options.sinks ?? [consoleSink()];
    const makeDrain = () => {
      const drain = new Drain({
        service: this.service,
        sinks,
        emitLevel: (target) => this.emitLevelFor(target),
        report,
      });
      drain.add({ ring: memory, dictionary: dictionaryMemory });
      return drain;
    };
    if (useWorker(options.worker ?? "auto", sinks)) {
      this.drain = undefined;
      this.host = new WorkerHost({
        recorder: this.recorder,
        ring: memory,
        dictionary: dictionaryMemory,
        sinks,
        service: this.service,
        level: this.emitLevel,
        directives: this.directivesSpec,
        makeDrain,
        report,
      });
    } else {
      this.drain = makeDrain();
      this.host = new InlineHost(this.drain, this.recorder);
    }
    const exitTimeout = options.exitTimeoutMs ?? 2000;
    let flushedAt = -1;
    // Set once a crash or signal snapshot is written: the exit that follows
    // is part of the same ending and takes no snapshot of its own.
    let ending = false;
    // One ending waits exitTimeoutMs in all: the end of the program's flush,
    // then the exit hook (or a crash's flush, then Node's exit event) share
    // one deadline, set by whichever comes first.
    let deadline: number | undefined;
    const left = () => {
      deadline ??= Date.now() + exitTimeout;
      return Math.max(0, deadline - Date.now());
    };
    const pendingAt = (where: string) =>
      report(
        `ttlog: events still pending ${where}: exitTimeoutMs (${exitTimeout} ms) spent`,
      );
    this.#removeExitHooks = onProcessExit({
      // The event loop is empty: deliver what is pending (once per new event).
      beforeExit: () => {
        if (this.recorder.recorded === flushedAt) return;
        flushedAt = this.recorder.recorded;
        const host = this.host as InlineHost | WorkerHost;
        host.flushWithin(left()).then((done) => {
          // Delivered: the program may go on, and a later ending gets its
          // own exitTimeoutMs.
          if (done) deadline = undefined;
          else pendingAt("at the end of the program");
        }, report);
      },
      exit: (code) => {
        if (!ending) this.autoSnapshot("exit", { kind: "exit", code });
        if (!this.host.flushSync(left())) pendingAt("at exit");
      },
      signal: (signal) => {
        ending = this.autoSnapshot("signal", { kind: "signal", signal }) ||
          ending;
        if (!this.host.flushSync(left())) pendingAt("at a signal");
      },
      crash: (error, origin) => {
        ending = this.autoSnapshot("crash", {
          kind: origin,
          error: describeError(error),
        }) || ending;
        // Deno and Bun end a crashed process without an exit event: deliver
        // what is pending now.
        if (!this.host.flushSync(left())) pendingAt("at a crash");
      },
    });
  }

  /**
   * A snapshot on `trigger` if `snapshot.on` asks for it; never throws (a
   * failure is reported on stderr). Returns whether one was written.
   */
  autoSnapshot(trigger: SnapshotTrigger, detail: Record<string, unknown>) {
    const on = this.options.snapshot?.on;
    if (on === undefined || !on.includes(trigger)) return false;
    try {
      this.snapshot(trigger, detail);
      return true;
    } catch (error) {
      runtime.write(
        "stderr",
        `ttlog: the snapshot on ${trigger} failed: ${safeString(error)}\n`,
      );
      return false;
    }
  }

  emitLevelFor(target: string): LevelValue {
    return this.directives === undefined
      ? this.emitLevel
      : levelFor(this.directives, target, this.emitLevel);
  }

  context(target: string, bound: Uint8Array | null): Context {
    const emit = this.emitLevelFor(target);
    return {
      target,
      targetId: this.#targetId(target),
      bound,
      threshold:
        (emit < this.recordLevel ? emit : this.recordLevel) as LevelValue,
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
    const { times, count } = host instanceof WorkerHost
      ? host.passTimes()
      : this.drain !== undefined
      ? { times: this.drain.passTimes, count: this.drain.counters.passes }
      : { times: new Float64Array(0), count: 0 };
    const logged = r.recorded + r.dropped;
    const used = r.used();
    // This producer's own accounting, kept by the drain in the ring.
    const stats = this.ring.stats;
    const emitted = stats[S_EMITTED];
    const filtered = stats[S_FILTERED];
    const lost = stats[S_LOST];
    return {
      service: this.service,
      logged,
      recorded: r.recorded,
      recordedBytes: r.recordedBytes,
      emitted,
      filtered,
      dropped: r.dropped,
      lost,
      pending: logged - emitted - filtered - r.dropped - lost,
      lossRecords: stats[S_LOSS_RECORDS],
      ringBytes: this.ringBytes,
      ringUsed: used,
      ringHighWater: Math.max(r.highWater, used),
      dictionaryEntries: r.dictionary.count,
      dictionaryBytes: r.dictionary.bytes,
      drainPasses: count,
      drainBatchMsP50: percentile(times, count, 0.5),
      drainBatchMsP99: percentile(times, count, 0.99),
      worker: host instanceof WorkerHost && host.inWorker,
      workerRestarts: host instanceof WorkerHost ? host.restarts : 0,
      replayed: this.replayed,
      replays: this.replays,
      snapshotsStored: this.stores?.counters.stored ?? 0,
      snapshotStoreErrors: this.stores?.counters.errors ?? 0,
      snapshotStoresPending: this.stores?.counters.pending ?? 0,
      sinks: host instanceof WorkerHost
        ? host.sinkMetrics()
        : this.drain?.sinkMetrics() ?? [],
    };
  }

  #lastErrorSnapshot = -Infinity;

  /** After an error or fatal event: a snapshot, if `snapshot.on` asks, at most every `minInterval` ms. */
  errorLogged(): void {
    const options = this.options.snapshot;
    if (options?.on === undefined || !options.on.includes("error")) return;
    const now = Date.now();
    if (now - this.#lastErrorSnapshot < (options.minInterval ?? 10_000)) return;
    this.#lastErrorSnapshot = now;
    // The event is the last one this thread recorded: the writer finds it
    // in the ring and puts its text in the header.
    this.autoSnapshot("error", {
      kind: "error event",
      producer: 0,
      seq: this.recorder.seq - 1,
    });
  }

  #pendingSnapshot: Promise<string> | undefined;

  /**
   * `log.snapshot()`: written in a microtask, so that every request made
   * before it runs (many handlers failing at once) shares one file.
   */
  sharedSnapshot(reason: string, request?: SnapshotRequest): Promise<string> {
    if (typeof reason !== "string" || reason === "") {
      return Promise.reject(
        new TtlogConfigError(
          `snapshot: reason must be a non-empty string, got ${
            safeString(reason)
          }`,
        ),
      );
    }
    if (request !== undefined) {
      const where = request?.where;
      if (
        typeof request !== "object" || request === null ||
        Object.keys(request).some((key) => key !== "where") ||
        (where !== undefined &&
          (typeof where !== "object" || where === null ||
            Array.isArray(where)))
      ) {
        return Promise.reject(
          new TtlogConfigError(
            `snapshot: options must be { where?: { field: value } }, got ${
              safeString(JSON.stringify(request) ?? request)
            }`,
          ),
        );
      }
      if (where !== undefined) {
        return Promise.resolve().then(() =>
          this.snapshot(reason, undefined, where)
        );
      }
    }
    if (this.#pendingSnapshot !== undefined) return this.#pendingSnapshot;
    const pending = Promise.resolve().then(() => {
      this.#pendingSnapshot = undefined;
      return this.snapshot(reason);
    });
    this.#pendingSnapshot = pending;
    return pending;
  }

  /** Writes a snapshot of every ring of this logger; returns its path. */
  snapshot(
    reason: string,
    trigger?: Record<string, unknown>,
    where?: Readonly<Record<string, unknown>>,
  ): string {
    if (typeof reason !== "string" || reason === "") {
      throw new TtlogConfigError(
        `snapshot: reason must be a non-empty string, got ${
          safeString(reason)
        }`,
      );
    }
    const options = this.options.snapshot ?? {};
    const built = buildSnapshot(this.producers, {
      service: this.service,
      reason,
      runtime: runtime.name,
      runtimeVersion: runtime.version,
      trigger: trigger ??
        (where === undefined ? { kind: "manual" } : { kind: "manual", where }),
      counters: this.metrics(),
    }, {
      seconds: options.window?.seconds,
      bytes: options.window?.bytes,
      compression: options.compression ?? defaultCompression(),
      where,
    });
    // The store first: a file system that fails must not keep it from
    // the snapshot.
    this.stores?.put({ name: built.name, reason, bytes: snapshotBytes(built) });
    if (options.dir === undefined && this.stores !== undefined) {
      return built.name;
    }
    return writeSnapshotFile(built, {
      dir: options.dir ?? DEFAULT_SNAPSHOT_DIR,
      keep: options.keep ?? 20,
    });
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
    const host = this.host;
    if (host instanceof RemoteHost) {
      throw new TtlogConfigError(
        `replay: this logger is attached to a drain on another thread; call replay() on the logger that owns the drain`,
      );
    }
    if (this.#closing !== undefined) {
      throw new TtlogConfigError(`replay: the logger is closed`);
    }
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
    host.replay({
      reason,
      batches: selection.batches,
      time: Date.now(),
      fields: { ...where, ...result },
    });
    return result;
  }

  port(): LoggerPort {
    const host = this.host;
    if (host instanceof RemoteHost) {
      throw new TtlogConfigError(
        `port: this logger is attached to a drain on another thread; call port() on the logger that owns the drain`,
      );
    }
    if (this.#closing !== undefined) {
      throw new TtlogConfigError(`port: the logger is closed`);
    }
    const capacity = this.ringBytes;
    const maxRecord = this.recorder.maxRecord;
    const policy = this.options.ring?.overflow ?? "overwrite";
    const ring = allocateRing(capacity, maxRecord, policy);
    const dictionary = allocateDictionary(
      this.options.dictionaryBytes ?? 1 << 20,
    );
    if (!(ring.buffer instanceof SharedArrayBuffer)) {
      throw new TtlogConfigError(
        `port: this runtime has no SharedArrayBuffer, so no other thread can log into this drain`,
      );
    }
    const control = host.addProducer(ring, dictionary);
    this.producers.push({ ring, dictionary });
    const { sinks: _sinks, worker: _worker, ...rest } = this.options;
    return {
      kind: "ttlog-port",
      ring: ring.buffer,
      dictionary: dictionary.buffer as SharedArrayBuffer,
      control,
      clock: this.clock === undefined
        ? undefined
        : this.clock.now.buffer as SharedArrayBuffer,
      options: { ...rest, directives: this.directivesSpec ?? "" },
    };
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#removeExitHooks();
    const timeout = this.options.exitTimeoutMs ?? 2000;
    const host = this.host;
    const closed = host.close();
    // Bounded by exitTimeoutMs without progress: a drain still reading a
    // backlog goes on, a sink that never settles does not hold the end.
    const stats = this.ring.stats;
    const progress = () => stats[S_EMITTED] + stats[S_FILTERED] + stats[S_LOST];
    let seen = progress();
    let done = host instanceof RemoteHost;
    if (done) await closed;
    while (!done) {
      done = await within(closed, timeout);
      const now = progress();
      if (done || now === seen) break;
      seen = now;
    }
    if (!done && !(host instanceof RemoteHost)) {
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
    await this.stores?.settle(this.options.exitTimeoutMs ?? 2000);
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

/** Calls deferred per closed record, and nesting of deferred calls, at most. */
const MAX_DEFERRED = 64;
const MAX_DEFER_DEPTH = 4;
let deferDropsReported = false;

/**
 * Keeps a log call made while a record is open (see Recorder.open), or,
 * past the bounds (a getter that logs the value it belongs to), counts it
 * as dropped and says so once.
 */
function deferCall(rec: Recorder, call: () => void): void {
  const queue = rec.deferred ??= [];
  if (queue.length < MAX_DEFERRED && rec.deferDepth < MAX_DEFER_DEPTH) {
    queue.push(call);
    return;
  }
  rec.dropped++;
  if (!deferDropsReported) {
    deferDropsReported = true;
    runtime.write(
      "stderr",
      "ttlog: events logged from inside a value being logged (a getter or toJSON that logs) were dropped: too many, or nested too deep\n",
    );
  }
}

/** Runs the log calls deferred while a record was open. */
function runDeferred(rec: Recorder): void {
  const queue = rec.deferred!;
  rec.deferred = null;
  rec.deferDepth++;
  try {
    for (const call of queue) call();
  } finally {
    rec.deferDepth--;
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

/** Room a template value needs before it starts (the recorder's room per item). */
const VALUE_ROOM = 24;

/** A template's part: its raw text where an invalid escape (`\u` in `C:\users`) left it undefined. */
function templatePart(strings: TemplateStringsArray, i: number): string {
  const part = strings[i];
  return typeof part === "string" ? part : String(strings.raw[i] ?? "");
}

/**
 * Writes a child's bound fields, or, when the record has no room left for
 * them (a long message, a small ring), says so rather than drop them silently.
 */
function writeBound(rec: Recorder, bound: Uint8Array): void {
  if (rec.pos + bound.length <= rec.end) rec.bytes(bound);
  else {rec.field(
      "…",
      `[${bound.length} bytes of bound fields left out: no room]`,
    );}
}

/**
 * Writes the fields of the context the call runs in (see withContext). The
 * first event of a context here encodes them in place; later ones copy
 * those bytes from the ring while they are still in it (a request's events
 * are close together), with no per-context buffer or second encoding.
 */
function writeContext(rec: Recorder): void {
  const store = currentStore();
  if (store === undefined) return;
  if (store.owner === rec && rec.copyEarlier(store.at, store.length)) return;
  const at = rec.position();
  rec.fields(store.fields);
  // Fields cut short by a full record are not copied into the next event.
  store.owner = rec.uncut() ? rec : undefined;
  store.at = at;
  store.length = (rec.position() - at) | 0;
}

const OBJECT_PROTO = Object.prototype;

function isTemplate(value: unknown): value is TemplateStringsArray {
  return Array.isArray(value) && (value as { raw?: unknown }).raw !== undefined;
}

/**
 * {@link isFields} for values from users, where a Proxy's traps may throw:
 * any other object then counts as fields (their encoding says what failed).
 */
function isFieldsSafe(value: unknown): value is Fields {
  try {
    return isFields(value);
  } catch {
    return typeof value === "object" && value !== null;
  }
}

function isFields(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Error);
}

/** Where snapshots go when `snapshot.dir` is not given. */
const DEFAULT_SNAPSHOT_DIR = "ttlog-snapshots";

/**
 * The keys of the methods request fronts mark where a request begins in the
 * ring with, and replay it from there (reading only its part of the ring).
 *
 * @internal
 */
export const REPLAY_MARK: unique symbol = Symbol.for("ttlog.replayMark");
/** @internal See {@link REPLAY_MARK}. */
export const REPLAY: unique symbol = Symbol.for("ttlog.replay");

let lz4Usable = false;
let lz4Noticed = false;

/**
 * A snapshot's compression when none was asked for: LZ4 where its
 * WebAssembly compiles, else none (Cloudflare Workers and Vercel Edge
 * refuse to compile WebAssembly from bytes, unless `initLz4({ module })`
 * was called), with one notice.
 */
function defaultCompression(): "lz4" | "none" {
  if (!lz4Usable) {
    try {
      initLz4Sync();
      lz4Usable = true;
    } catch (error) {
      if (lz4Noticed) return "none";
      lz4Noticed = true;
      runtime.write(
        "stderr",
        `ttlog: snapshots are not compressed: ${
          safeString(error instanceof Error ? error.message : error)
        }\n`,
      );
    }
  }
  return lz4Usable ? "lz4" : "none";
}

/**
 * The key of a logger's snapshot directory, for the dashboard to list the
 * snapshots the logger writes without being told where.
 *
 * @internal
 */
export const SNAPSHOT_DIR: unique symbol = Symbol.for("ttlog.snapshotDir");

class LoggerImpl implements Logger {
  declare readonly trace: LogMethod;
  declare readonly debug: LogMethod;
  declare readonly info: LogMethod;
  declare readonly warn: LogMethod;
  declare readonly error: LogMethod;
  declare readonly fatal: LogMethod;
  #core: Core;
  #ctx: Context;
  #threshold: LevelValue;

  constructor(core: Core, ctx: Context) {
    this.#core = core;
    this.#ctx = ctx;
    this.#threshold = ctx.threshold;
  }

  /** Where this logger's snapshots go (see {@link SNAPSHOT_DIR}). */
  get [SNAPSHOT_DIR](): string {
    return this.#core.options.snapshot?.dir ?? DEFAULT_SNAPSHOT_DIR;
  }

  static {
    // One method per level, each a closure over its level: the disabled
    // check is one comparison, and `arguments` is only read by index, so
    // no array is allocated for a tagged template's values.
    for (
      const name of [
        "trace",
        "debug",
        "info",
        "warn",
        "error",
        "fatal",
      ] as const
    ) {
      const level = Level[name];
      const errors = level >= Level.error;
      const method = function (
        this: LoggerImpl,
        first: unknown,
        a?: unknown,
        b?: unknown,
        c?: unknown,
        d?: unknown,
      ): void {
        if (this.#threshold > level) return;
        const n = arguments.length;
        let extra: unknown[] | undefined;
        if (n > 5) {
          extra = [];
          for (let i = 5; i < n; i++) extra.push(arguments[i]);
        }
        this.#log(level, n, first, a, b, c, d, extra);
        // Fixed per method: only error and fatal pay for the snapshot check.
        if (errors) this.#core.errorLogged();
      };
      Object.defineProperty(LoggerImpl.prototype, name, {
        value: method,
        writable: false,
        enumerable: false,
        configurable: false,
      });
    }
  }

  get target(): string {
    return this.#ctx.target;
  }

  /** The shared core (for {@link internals}). */
  static coreOf(logger: LoggerImpl): Core {
    return logger.#core;
  }

  #log(
    level: number,
    n: number,
    first: unknown,
    a: unknown,
    b: unknown,
    c: unknown,
    d: unknown,
    extra: unknown[] | undefined,
  ): void {
    const rec = this.#core.recorder;
    if (rec.open) {
      this.#deferLog(level, n, first, a, b, c, d, extra);
      return;
    }
    const ctx = this.#ctx;
    try {
      if (typeof first === "string") {
        const site = rec.messageSite(first);
        if (!rec.begin(level, ctx.targetId, site)) return;
        if (ctx.targetId === 0) rec.str(ctx.target);
        if (site === 0) {
          rec.varint(1);
          rec.str(first);
        }
        if (ctx.bound !== null) writeBound(rec, ctx.bound);
        if (contextState.active) writeContext(rec);
        if (n > 1) {
          // The usual fields object is a literal: one prototype check says
          // it is not an array or an Error, and that its keys are all own.
          if (
            typeof a === "object" && a !== null &&
            Object.getPrototypeOf(a) === OBJECT_PROTO
          ) rec.fields(a, site, true);
          else if (isFields(a)) rec.fields(a, site);
          else rec.field("arg1", a);
          if (n > 2) this.#extraFields(2, n, b, c, d, extra);
        }
        rec.commit();
      } else if (isTemplate(first)) {
        const site = rec.templateSite(first);
        if (!rec.begin(level, ctx.targetId, site)) return;
        if (ctx.targetId === 0) rec.str(ctx.target);
        const values = first.length - 1;
        // Each part and value is written only with room for it: past the
        // room the rest are left out (the reader shows them as "…"), so a
        // template with many values never outgrows the record.
        let cut = false;
        if (site === 0) {
          rec.varint(first.length);
          for (let i = 0; i < first.length; i++) {
            if (rec.pos > rec.end - VALUE_ROOM) {
              cut = true;
              break;
            }
            rec.str(templatePart(first, i));
          }
        }
        for (let i = 0; i < values && !cut; i++) {
          if (rec.pos > rec.end - VALUE_ROOM) {
            cut = true;
            break;
          }
          rec.value(
            i === 0
              ? a
              : i === 1
              ? b
              : i === 2
              ? c
              : i === 3
              ? d
              : extra?.[i - 4],
          );
        }
        if (!cut) {
          if (ctx.bound !== null) writeBound(rec, ctx.bound);
          if (contextState.active) writeContext(rec);
        }
        rec.commit();
      } else {
        this.#logOther(level, n, first, a, b, c, d, extra);
      }
    } catch (error) {
      rec.abort();
      this.#logUnloggable(level, first, error);
    }
    if (rec.deferred !== null) runDeferred(rec);
  }

  /**
   * A call made from inside a value being logged (a getter, a toJSON): it
   * goes in once the record being encoded is closed. Apart from #log, so
   * that #log stays small enough to inline.
   */
  #deferLog(
    level: number,
    n: number,
    first: unknown,
    a: unknown,
    b: unknown,
    c: unknown,
    d: unknown,
    extra: unknown[] | undefined,
  ): void {
    deferCall(
      this.#core.recorder,
      () => this.#log(level, n, first, a, b, c, d, extra),
    );
  }

  /** The rarer forms: fields or an Error first, or a message that is not a string. */
  #logOther(
    level: number,
    n: number,
    first: unknown,
    a: unknown,
    b: unknown,
    c: unknown,
    d: unknown,
    extra: unknown[] | undefined,
  ): void {
    const rec = this.#core.recorder;
    const ctx = this.#ctx;
    let msg: string;
    let rest = 1;
    if (typeof a === "string" && (first instanceof Error || isFields(first))) {
      msg = a;
      rest = 2;
    } else if (first instanceof Error) {
      msg = readMessage(first);
    } else if (isFields(first)) {
      msg = "";
    } else {
      msg = safeString(first);
    }
    const site = rec.messageSite(msg);
    if (!rec.begin(level, ctx.targetId, site)) return;
    if (ctx.targetId === 0) rec.str(ctx.target);
    if (site === 0) {
      rec.varint(1);
      rec.str(msg);
    }
    if (ctx.bound !== null) writeBound(rec, ctx.bound);
    if (contextState.active) writeContext(rec);
    if (first instanceof Error) rec.field("err", first);
    else if (isFields(first)) rec.fields(first);
    if (n > rest) {
      this.#extraFields(
        rest,
        n,
        rest === 1 ? a : b,
        rest === 1 ? b : c,
        rest === 1 ? c : d,
        extra,
        rest === 1 ? d : undefined,
      );
    }
    rec.commit();
  }

  /** Arguments past the message and fields, as fields `arg2`, `arg3`... */
  #extraFields(
    from: number,
    n: number,
    x: unknown,
    y: unknown,
    z: unknown,
    extra: unknown[] | undefined,
    w?: unknown,
  ): void {
    const rec = this.#core.recorder;
    const values = [x, y, z, w];
    for (let i = from; i < n; i++) {
      const k = i - from;
      rec.field(
        `arg${i}`,
        k < 3 ? values[k] : k === 3 && w !== undefined ? w : extra?.[i - 5],
      );
    }
  }

  #logUnloggable(level: number, first: unknown, error: unknown): void {
    const rec = this.#core.recorder;
    try {
      if (!rec.begin(level, this.#ctx.targetId, 0)) return;
      if (this.#ctx.targetId === 0) rec.str(this.#ctx.target);
      rec.varint(1);
      const msg = typeof first === "string" ? `${first} ` : "";
      rec.str(
        `${msg}[ttlog could not encode this event: ${safeString(error)}]`,
      );
      rec.commit();
    } catch {
      rec.abort();
    }
  }

  enabled(level: LevelName): boolean {
    return this.#threshold <= parseLevel(level);
  }

  child(target: string | Fields, fields?: Fields): Logger {
    const core = this.#core;
    let childTarget = this.#ctx.target;
    let bound = fields;
    if (typeof target === "string") {
      validateTarget(target);
      childTarget = childTarget === "" ? target : `${childTarget}.${target}`;
    } else if (isFieldsSafe(target)) {
      bound = target;
    } else {
      throw new TtlogConfigError(
        `child: expected a target string or a fields object, got ${
          safeString(target)
        }`,
      );
    }
    let blob = this.#ctx.bound;
    if (bound !== undefined) {
      if (!isFieldsSafe(bound)) {
        throw new TtlogConfigError(
          `child: fields must be a plain object, got ${safeString(bound)}`,
        );
      }
      const recorder = core.recorder;
      let own: Uint8Array;
      try {
        own = recorder.detached(() => recorder.fields(bound));
      } catch (error) {
        // A hostile value (a Proxy whose traps throw): the child still logs,
        // and its events say what became of the fields, as a log call's do.
        own = recorder.detached(() =>
          recorder.field(
            "…",
            `[ttlog could not encode the bound fields: ${safeString(error)}]`,
          )
        );
      }
      blob = blob === null ? own : concat(blob, own);
      // A getter among the fields that logged: its events go in now.
      if (recorder.deferred !== null && !recorder.open) runDeferred(recorder);
    }
    return new LoggerImpl(core, core.context(childTarget, blob));
  }

  span(name: string, fields?: Fields): Span {
    return new Span(fields === undefined ? this : this.child(fields), name);
  }

  flush(): Promise<void> {
    const core = this.#core;
    const stores = core.stores;
    if (stores === undefined) return core.host.flush();
    // Checked after the drain's flush: a snapshot asked for just before
    // (taken in a microtask) has reached the store by then.
    return core.host.flush().then(() =>
      stores.settle(core.options.exitTimeoutMs ?? 2000)
    ).then(() => {});
  }

  metrics(): Metrics {
    return this.#core.metrics();
  }

  close(): Promise<void> {
    return this.#core.close();
  }

  port(): LoggerPort {
    return this.#core.port();
  }

  snapshot(reason = "manual", options?: SnapshotRequest): Promise<string> {
    return this.#core.sharedSnapshot(reason, options);
  }

  replay(reason: string, options: ReplayRequest): ReplayResult {
    return this.#core.replay(reason, options);
  }

  /** Where a request begins in the ring, for request fronts (see REPLAY). */
  [REPLAY_MARK](): ReplayStart {
    const recorder = this.#core.recorder;
    return { position: recorder.write, recorded: recorder.recorded };
  }

  /** A request's replay, read from where it began (see REPLAY). */
  [REPLAY](
    reason: string,
    where: Readonly<Record<string, unknown>>,
    start: ReplayStart | undefined,
  ): ReplayResult {
    return this.#core.replay(reason, { where }, start);
  }

  /** Makes a root logger on a core (for {@link attachLogger}). */
  static root(core: Core): Logger {
    return new LoggerImpl(core, core.context("", null));
  }
}

function readMessage(error: Error): string {
  try {
    return typeof error.message === "string"
      ? error.message
      : safeString(error.message);
  } catch {
    return "[message threw]";
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function validateTarget(target: string): void {
  if (!isValidTarget(target)) {
    throw new TtlogConfigError(
      `child: bad target ${
        JSON.stringify(target)
      }: use dot-separated names of letters, digits, "_" or "-" (such as "db.pool")`,
    );
  }
}

/** Whether the drain goes to a worker; throws when `worker: true` cannot be honoured. */
function useWorker(worker: boolean | "auto", sinks: readonly Sink[]): boolean {
  if (worker === false) return false;
  const stuck = sinks.find((sink) => sink.spec === undefined);
  if (worker === true) {
    if (!canStartWorker()) {
      throw new TtlogConfigError(
        `createLogger: worker: true needs worker threads and SharedArrayBuffer, which this runtime does not have (use worker: "auto" or false)`,
      );
    }
    if (stuck !== undefined) {
      throw new TtlogConfigError(
        `createLogger: worker: true, but sink "${stuck.name}" cannot run in a worker (it has no spec to rebuild it there); use worker: "auto" or false to drain on this thread`,
      );
    }
    return true;
  }
  // On one CPU a worker cannot run beside the app: its work comes out of the
  // same core, plus the cost of waking it. The caller's thread drains then.
  return stuck === undefined && canStartWorker() && (usableCpus() ?? 2) > 1;
}

/**
 * Creates a logger. Every event at or above the record level (or a target's
 * emit level, if lower) is encoded into the in-memory ring; events at or
 * above their target's emit level reach the sinks.
 *
 * @param options Service, levels, directives, sinks, ring, redaction.
 * @returns The root logger (target `""`).
 * @throws {TtlogConfigError} When an option is malformed; the message names it.
 *
 * @example Log to memory and read it back
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ service: "checkout", level: "info", sinks: [sink] });
 * const user = "ada";
 * log.info`user ${user} logged in`;
 * log.debug("recorded in the ring, not emitted");
 * await log.flush();
 * assert.equal(sink.records.length, 1);
 * assert.equal(sink.records[0].msg, "user ada logged in");
 * const m = log.metrics();
 * assert.equal(m.logged, m.emitted + m.filtered + m.dropped + m.lost + m.pending);
 * await log.close();
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  let plain: LoggerOptions;
  try {
    plain = readOptions(options);
    validateOptions(plain);
  } catch (error) {
    if (error instanceof TtlogConfigError) throw error;
    // A Proxy's trap, a getter: what the options did, not ttlog.
    throw new TtlogConfigError(
      `createLogger: the options could not be read: ${safeString(error)}`,
    );
  }
  const core = new Core(plain);
  return new LoggerImpl(core, core.context("", null));
}

/** A thrown value as JSON-safe metadata; never throws (getters may). */
function describeError(error: unknown): Record<string, string> {
  const read = (key: string): string | undefined => {
    try {
      const value = (error as Record<string, unknown>)[key];
      return value === undefined ? undefined : safeString(value);
    } catch {
      return undefined;
    }
  };
  if (typeof error !== "object" || error === null) {
    return { message: safeString(error) };
  }
  const out: Record<string, string> = {};
  for (const key of ["name", "message", "stack"]) {
    const value = read(key);
    if (value !== undefined) out[key] = value;
  }
  if (out.message === undefined) out.message = safeString(error);
  return out;
}

/** The parts behind a logger, for ttlog's own snapshot code and tests. Not part of the public API. */
export interface LoggerInternals {
  /** The producer's recorder (hot path). */
  readonly recorder: Recorder;
  /** The drain, when it runs on the caller's thread (else it is in the worker). */
  readonly drain: Drain | undefined;
  /** The drain's host. */
  readonly host: InlineHost | WorkerHost | RemoteHost;
  /** The ring's memory. */
  readonly ring: RingMemory;
  /** The dictionary's memory. */
  readonly dictionary: DictionaryMemory;
}

/** The parts behind a logger made by {@link createLogger}. Not part of the public API. */
export function internals(logger: Logger): LoggerInternals {
  if (!(logger instanceof LoggerImpl)) {
    throw new TypeError("internals: not a ttlog logger");
  }
  const core = LoggerImpl.coreOf(logger);
  return {
    recorder: core.recorder,
    drain: core.drain,
    host: core.host,
    ring: core.ring,
    dictionary: core.dictionaryMemory,
  };
}

/**
 * Creates a logger, in an application worker, that logs into the drain of
 * the logger that made `port` (on the main thread). Its events go into a
 * ring of its own and are merged with the other producers' in time order.
 *
 * @param port What `log.port()` returned on the other thread.
 * @returns The root logger of this thread.
 * @throws {TtlogConfigError} When `port` is not a ttlog port.
 *
 * @example Log from another thread (here, the same one, for brevity)
 * ```ts
 * import { attachLogger, createLogger, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * const port = log.port(); // send this to a worker: worker.postMessage(port)
 * const remote = attachLogger(port); // in the worker
 * remote.info("from the worker");
 * await remote.flush();
 * assert.equal(sink.records[0].msg, "from the worker");
 * await log.close();
 * ```
 */
export function attachLogger(port: LoggerPort): Logger {
  if (
    typeof port !== "object" || port === null || port.kind !== "ttlog-port" ||
    !(port.ring instanceof SharedArrayBuffer) ||
    !(port.dictionary instanceof SharedArrayBuffer) ||
    !(port.control instanceof SharedArrayBuffer)
  ) {
    throw new TtlogConfigError(
      `attachLogger: expected what log.port() returned (with its SharedArrayBuffers), got ${
        safeString(port)
      }`,
    );
  }
  validateOptions(port.options);
  const core = new Core(port.options, {
    ring: viewRing(port.ring),
    dictionary: { buffer: port.dictionary },
    control: viewControl(port.control),
    clock: port.clock instanceof SharedArrayBuffer
      ? new Float64Array(port.clock, 0, 1)
      : null,
  });
  return LoggerImpl.root(core);
}
