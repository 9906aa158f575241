/**
 * The logger's public types: the {@link Logger} a program logs through, its
 * level methods, fields, and the port another thread attaches with.
 *
 * @module
 */

import type { LevelName } from "../level.ts";
import type { Metrics } from "../metrics.ts";
import type { Span } from "../span.ts";
import type { ReplayRequest, ReplayResult } from "../snapshot/replay.ts";
import type { LoggerOptions, SnapshotRequest } from "./options.ts";

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
