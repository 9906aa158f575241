/**
 * The logger itself: the level methods (the hot path, which encodes an
 * event into the ring and returns), children, spans, and the functions that
 * make a logger, {@link createLogger} and {@link attachLogger}.
 *
 * @module
 */

import { isValidTarget } from "../directives.ts";
import type { Drain } from "../drain/drain.ts";
import type { DrainHost } from "../drain/host.ts";
import { viewControl } from "../drain/control.ts";
import { contextState, currentStore } from "../context.ts";
import { TtlogConfigError } from "../errors.ts";
import {
  Level,
  type LevelName,
  type LevelValue,
  parseLevel,
} from "../level.ts";
import type { Metrics } from "../metrics.ts";
import type { DictionaryMemory } from "../record/dictionary.ts";
import { type Recorder, safeString } from "../record/encode.ts";
import { type RingMemory, viewRing } from "../ring/ring.ts";
import { runtime } from "../runtime/mod.ts";
import { Span } from "../span.ts";
import type {
  ReplayRequest,
  ReplayResult,
  ReplayStart,
} from "../snapshot/replay.ts";
import { type Context, Pipeline } from "./core.ts";
import {
  type LoggerOptions,
  resolveSettings,
  type SnapshotRequest,
} from "./options.ts";
import type { Fields, Logger, LoggerPort, LogMethod } from "./types.ts";

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

/**
 * The keys of the methods request fronts mark where a request begins in the
 * ring with, and replay it from there (reading only its part of the ring).
 *
 * @internal
 */
export const REPLAY_MARK: unique symbol = Symbol.for("ttlog.replayMark");
/** @internal See {@link REPLAY_MARK}. */
export const REPLAY: unique symbol = Symbol.for("ttlog.replay");

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
  #core: Pipeline;
  #ctx: Context;
  #threshold: LevelValue;

  constructor(core: Pipeline, ctx: Context) {
    this.#core = core;
    this.#ctx = ctx;
    this.#threshold = ctx.threshold;
  }

  /** Where this logger's snapshots go (see {@link SNAPSHOT_DIR}). */
  get [SNAPSHOT_DIR](): string {
    return this.#core.snapshots.dir;
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
        if (errors) this.#core.snapshots.errorLogged();
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

  /** The shared pipeline (for {@link internals}). */
  static coreOf(logger: LoggerImpl): Pipeline {
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
    return this.#core.flush();
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
    return this.#core.snapshots.shared(reason, options);
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

  /** Makes a root logger on a pipeline. */
  static root(core: Pipeline): Logger {
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
  const { plain, settings } = resolveSettings(options, runtime.env);
  return LoggerImpl.root(new Pipeline(plain, settings));
}

/** The parts behind a logger, for ttlog's own snapshot code and tests. Not part of the public API. */
export interface LoggerInternals {
  /** The producer's recorder (hot path). */
  readonly recorder: Recorder;
  /** The drain, when it runs on the caller's thread (else it is in the worker). */
  readonly drain: Drain | undefined;
  /** The drain's host. */
  readonly host: DrainHost;
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
  const { plain, settings } = resolveSettings(
    port.options,
    () => undefined,
  );
  const core = new Pipeline(plain, settings, {
    ring: viewRing(port.ring),
    dictionary: { buffer: port.dictionary },
    control: viewControl(port.control),
    clock: port.clock instanceof SharedArrayBuffer
      ? new Float64Array(port.clock, 0, 1)
      : null,
  });
  return LoggerImpl.root(core);
}
