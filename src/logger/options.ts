/**
 * createLogger's options: their types and documentation, how they are read
 * (once, into a plain copy) and checked, every mistake a TtlogConfigError
 * naming the option and the value, and the {@link Settings} they resolve
 * to, every default filled in.
 *
 * @module
 */

import { TtlogConfigError } from "../errors.ts";
import { type LevelValue, parseLevel, type ThresholdName } from "../level.ts";
import {
  DEFAULT_LIMITS,
  type EncodeLimits,
  safeString,
} from "../record/encode.ts";
import {
  MAX_RING_BYTES,
  MIN_RING_BYTES,
  type OverflowPolicy,
  ringCapacity,
} from "../ring/ring.ts";
import { canStartWorker } from "../runtime/worker.ts";
import {
  badOption,
  choiceList,
  choiceOption,
  describeValue,
  groupOption,
  integerOption,
  millisOption,
  textOption,
} from "../validate.ts";
import type { Sink } from "../sinks/sink.ts";
import type { SnapshotStore } from "../snapshot/store.ts";

/** 0: no dictionary, every key, target and message inline in its record. */
const MIN_DICTIONARY_BYTES = 0;
const MAX_DICTIONARY_BYTES = 1 << 28;

const RING_KEYS = ["bytes", "overflow", "maxRecordBytes", "dictionaryBytes"];
const SNAPSHOT_KEYS = [
  "dir",
  "store",
  "window",
  "keep",
  "compression",
  "on",
  "minIntervalMs",
];

/**
 * Ring options.
 *
 * @example A small ring that drops the newest events when full
 * ```ts
 * import { createLogger, memorySink, type RingOptions } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const ring: RingOptions = { bytes: 64 * 1024, overflow: "drop", maxRecordBytes: 512 };
 * const log = createLogger({ ring, sinks: [sink] });
 * log.info("big", { blob: "x".repeat(4096) });
 * await log.flush();
 * const blob = String(sink.records[0].fields.blob);
 * assert.ok(blob.length < 4096); // cut at maxRecordBytes
 * await log.close();
 * ```
 */
export interface RingOptions {
  /** Bytes of the ring (rounded up to a power of two; default 8 MiB). */
  readonly bytes?: number;
  /** When the drain lags: `"overwrite"` (default), `"drop"` or `"block"`. */
  readonly overflow?: OverflowPolicy;
  /** Largest record in bytes; bigger events are cut with a marker (default min(16 KiB, bytes / 4)). */
  readonly maxRecordBytes?: number;
  /**
   * Bytes of the dictionary beside the ring, where keys, targets and
   * messages are written once (default 1 MiB); past it they go inline.
   */
  readonly dictionaryBytes?: number;
}

/**
 * Options of {@link createLogger}.
 *
 * @example Emit warnings, record debug, redact secrets
 * ```ts
 * import { createLogger, type LoggerOptions, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const options: LoggerOptions = {
 *   service: "billing",
 *   level: "warn",
 *   recordLevel: "debug",
 *   directives: "warn,payments=info",
 *   redact: ["card"],
 *   sinks: [sink],
 * };
 * const log = createLogger(options);
 * log.info("not emitted");
 * log.child("payments").info("charged", { card: "4242 4242 4242 4242" });
 * await log.flush();
 * assert.equal(sink.records.length, 1);
 * assert.equal(String(sink.records[0].fields.card), "[Redacted]");
 * await log.close();
 * ```
 */
export interface LoggerOptions {
  /** The service name, in every record (default `"app"`). */
  readonly service?: string;
  /** Emit level: what reaches the sinks (default `"info"`). */
  readonly level?: ThresholdName;
  /** Record level: what enters the flight-recorder ring (default `"debug"`). */
  readonly recordLevel?: ThresholdName;
  /** Per-target emit levels, such as `"info,db=debug"` (default: the TTLOG environment variable). */
  readonly directives?: string;
  /** Where emitted events go (default: text on stdout). */
  readonly sinks?: readonly Sink[];
  /** The ring. */
  readonly ring?: RingOptions;
  /** Field keys whose values are replaced by `[Redacted]` at any depth, case-insensitively. */
  readonly redact?: readonly string[];
  /** Size limits for values (`depth` at most 16). */
  readonly limits?: Partial<EncodeLimits>;
  /**
   * Where the drain runs: `"auto"` (default: a worker thread when the runtime
   * has one, every sink can be rebuilt there and the process may use more
   * than one CPU, else the caller's thread), `true` (a worker, or an error
   * saying why not) or `false`.
   */
  readonly worker?: boolean | "auto";
  /** How long exit and signal hooks may spend delivering pending events (default 2000 ms). */
  readonly exitTimeoutMs?: number;
  /**
   * How events are timestamped. `"exact"` (default): `Date.now()` per
   * event, 30-40 ns, a third of a log call. `"coarse"`: a thread publishes
   * the time about every millisecond and each event reads it for about a
   * nanosecond; timestamps may lag the wall clock by a few ms under load,
   * and the thread wakes 1000 times a second. Order within a thread never
   * depends on the clock.
   */
  readonly clock?: "exact" | "coarse";
  /** Where and how `log.snapshot()` writes. */
  readonly snapshot?: SnapshotOptions;
}

/**
 * Options of one {@link Logger.snapshot} call.
 *
 * @example Snapshot one request's events
 * ```ts
 * import { createLogger, memorySink, type SnapshotRequest } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, readdirSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-doc-"));
 * const log = createLogger({ sinks: [memorySink()], snapshot: { dir } });
 * log.info("cart loaded", { request_id: "r-1" });
 * log.error("payment failed", { request_id: "r-2" });
 * const request: SnapshotRequest = { where: { request_id: "r-2" } };
 * const path = await log.snapshot("r-2 failed", request);
 * await log.close();
 * assert.deepEqual(readdirSync(dir).map((name) => join(dir, name)), [path]);
 * rmSync(dir, { recursive: true });
 * ```
 */
export interface SnapshotRequest {
  /**
   * Keep only the events whose fields hold each of these values (compared
   * with `Object.is`), such as `{ request_id: id }` for one request's events
   * (see withContext). Such a snapshot is never shared with other calls.
   */
  readonly where?: Readonly<Record<string, unknown>>;
}

/**
 * What can take a snapshot by itself: see {@link SnapshotOptions.on}.
 *
 * @example Snapshot on error events
 * ```ts
 * import { createLogger, memorySink, type SnapshotTrigger } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, readdirSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-doc-"));
 * const on: SnapshotTrigger[] = ["error"];
 * const log = createLogger({ service: "shop", sinks: [memorySink()], snapshot: { dir, on } });
 * log.debug("cache miss", { key: "cart:7" });
 * log.error("checkout failed");
 * await log.close();
 * const files = readdirSync(dir);
 * assert.equal(files.length, 1);
 * assert.match(files[0], /^ttlog-shop-.*-error\.ttlog$/);
 * rmSync(dir, { recursive: true });
 * ```
 */
export type SnapshotTrigger = "error" | "crash" | "signal" | "exit";

const SNAPSHOT_TRIGGERS: readonly SnapshotTrigger[] = [
  "error",
  "crash",
  "signal",
  "exit",
];

/**
 * Options for snapshots: the last events of every ring, written as a .ttlog file.
 *
 * @example Keep the two newest gzip snapshots
 * ```ts
 * import { createLogger, memorySink, type SnapshotOptions } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, readdirSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-doc-"));
 * const snapshot: SnapshotOptions = { dir, keep: 2, compression: "gzip", window: { ms: 30_000 } };
 * const log = createLogger({ sinks: [memorySink()], snapshot });
 * for (const reason of ["first", "second", "third"]) {
 *   log.info("step", { reason });
 *   await log.snapshot(reason);
 * }
 * await log.close();
 * const files = readdirSync(dir);
 * assert.equal(files.length, 2);
 * assert.ok(!files.some((name) => name.includes("first")));
 * rmSync(dir, { recursive: true });
 * ```
 */
export interface SnapshotOptions {
  /**
   * The directory (created if missing, mode 0700). Default
   * `"ttlog-snapshots"`, unless there is a `store`: then files are written
   * only when `dir` is given.
   */
  readonly dir?: string;
  /**
   * Where snapshots go as well as, or instead of, files: a function that
   * gets each one's name, reason and complete .ttlog bytes (an R2 or S3
   * put, a Deno KV set, {@link httpStore}); it works where there is no file
   * system (Cloudflare Workers, Vercel Edge, Deno Deploy). A promise it
   * returns is waited for by `flush()` and `close()` (at most
   * `exitTimeoutMs`); one that throws or rejects is counted in
   * `snapshotStoreErrors` and reported on stderr, never thrown. At a crash
   * a store gets its call but the process may end before its promise
   * settles: give `dir` as well where there is a disk.
   */
  readonly store?: SnapshotStore;
  /** How far back a snapshot goes: at most `ms` and `bytes` (per producer); default all the ring holds. */
  readonly window?: { readonly ms?: number; readonly bytes?: number };
  /** Snapshot files of this service to keep, newest first (default 20). */
  readonly keep?: number;
  /** Chunk compression: `"lz4"` (default), `"gzip"` or `"none"`. */
  readonly compression?: "lz4" | "gzip" | "none";
  /**
   * When snapshots are taken by themselves (each file's reason is the
   * trigger's name, and its header says what happened):
   * - `"error"`: an error or fatal event; the snapshot includes it, and the
   *   header holds its text. At most one per `minIntervalMs`.
   * - `"crash"`: an uncaught exception or unhandled rejection; the header
   *   holds the error. Written synchronously from shared memory (the drain
   *   may be stuck), then the runtime reports the error and exits as it
   *   would have.
   * - `"signal"`: SIGTERM, SIGINT or SIGHUP (where the runtime has them),
   *   before the process ends by that signal as it would have.
   * - `"exit"`: the process exits (`process.exit()`, `Deno.exit()` or the
   *   end of the program) with any code, unless a crash or signal snapshot
   *   was just written; the header holds the code.
   */
  readonly on?: readonly SnapshotTrigger[];
  /** The least time between two snapshots on error events, in ms (default 10000). */
  readonly minIntervalMs?: number;
}

/**
 * The deepest `limits.depth`: each open level may need a few closing bytes
 * past a record's content room (its 128-byte slack), and the decoder reads
 * at most 64 levels.
 */
const MAX_DEPTH = 16;

const OPTION_KEYS = [
  "service",
  "level",
  "recordLevel",
  "directives",
  "sinks",
  "ring",
  "redact",
  "limits",
  "worker",
  "exitTimeoutMs",
  "clock",
  "snapshot",
];

/**
 * A plain copy of the options (and of the objects and arrays in them), read
 * once: a Proxy whose traps throw, or options changed after the call, then
 * cannot reach the logger. Sinks themselves are not copied.
 */
export function readOptions(options: LoggerOptions): LoggerOptions {
  if (
    typeof options !== "object" || options === null || Array.isArray(options)
  ) {
    throw new TtlogConfigError(
      `createLogger: options must be an object, got ${
        Array.isArray(options) ? "an array" : safeString(options)
      }`,
    );
  }
  const copy: Record<string, unknown> = { ...options };
  for (const key of ["ring", "limits", "snapshot"]) {
    const value = copy[key];
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      copy[key] = { ...value };
    }
  }
  const snapshot = copy.snapshot as Record<string, unknown> | undefined;
  if (typeof snapshot?.window === "object" && snapshot.window !== null) {
    snapshot.window = { ...snapshot.window };
  }
  if (Array.isArray(snapshot?.on)) snapshot.on = [...snapshot.on];
  for (const key of ["sinks", "redact"]) {
    if (Array.isArray(copy[key])) copy[key] = [...(copy[key] as unknown[])];
  }
  return copy as LoggerOptions;
}

/** Checks plain options (see {@link readOptions}); throws a TtlogConfigError naming the first mistake. */
export function validateOptions(options: LoggerOptions): void {
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new TtlogConfigError(
        `createLogger: unknown option ${JSON.stringify(key)} (known: ${
          OPTION_KEYS.join(", ")
        })`,
      );
    }
  }
  textOption(bad, options.service, "service");
  if (options.sinks !== undefined) {
    if (!Array.isArray(options.sinks)) {
      bad("sinks", options.sinks, "an array of sinks");
    }
    options.sinks.forEach((sink, i) => {
      if (
        typeof sink !== "object" || sink === null ||
        typeof sink.write !== "function"
      ) {
        bad(
          `sinks[${i}]`,
          sink,
          "a sink (an object with a write(records) method)",
        );
      }
    });
  }
  validateRing(options.ring);
  if (
    options.directives !== undefined && typeof options.directives !== "string"
  ) {
    bad("directives", options.directives, 'a string such as "info,db=debug"');
  }
  if (options.redact !== undefined) {
    if (!Array.isArray(options.redact)) {
      bad("redact", options.redact, "an array of field names");
    }
    options.redact.forEach((key, i) => {
      if (typeof key !== "string" || key === "") {
        bad(`redact[${i}]`, key, "a field name (a non-empty string)");
      }
    });
  }
  const limits = groupOption(bad, options.limits, "limits");
  for (const [key, value] of Object.entries(limits)) {
    if (!(key in DEFAULT_LIMITS)) {
      throw new TtlogConfigError(
        `createLogger: unknown limit ${
          JSON.stringify(key)
        } (known: string, depth, items)`,
      );
    }
    integerOption(bad, value, `limits.${key}`, 1, 1);
    if (key === "depth" && (value as number) > MAX_DEPTH) {
      throw new TtlogConfigError(
        `createLogger: limits.depth must be at most ${MAX_DEPTH}, got ${value}: deeper values would not fit a record's closing room or be readable`,
      );
    }
  }
  if (
    options.worker !== undefined && options.worker !== false &&
    options.worker !== true && options.worker !== "auto"
  ) {
    bad("worker", options.worker, 'true, false or "auto"');
  }
  validateSnapshotOptions(options.snapshot);
  choiceOption(bad, options.clock, "clock", ["exact", "coarse"]);
  if (options.clock === "coarse" && !canStartWorker()) {
    throw new TtlogConfigError(
      `createLogger: clock: "coarse" needs a thread and SharedArrayBuffer, which this runtime does not have (use clock: "exact")`,
    );
  }
  const exitTimeoutMs = millisOption(
    bad,
    options.exitTimeoutMs,
    "exitTimeoutMs",
    0,
  );
  if (exitTimeoutMs > MAX_EXIT_TIMEOUT_MS) {
    bad(
      "exitTimeoutMs",
      exitTimeoutMs,
      `a number of ms from 0 to ${MAX_EXIT_TIMEOUT_MS}`,
    );
  }
}

/** The most `exitTimeoutMs` may be: an ending that waits longer looks hung. */
const MAX_EXIT_TIMEOUT_MS = 60_000;

function validateRing(ring: RingOptions | undefined): void {
  if (ring === undefined) return;
  groupOption(bad, ring, "ring");
  for (const key of Object.keys(ring)) {
    if (!RING_KEYS.includes(key)) {
      throw new TtlogConfigError(
        `createLogger: unknown ring option ${JSON.stringify(key)} (known: ${
          RING_KEYS.join(", ")
        })`,
      );
    }
  }
  integerOption(
    bad,
    ring.bytes,
    "ring.bytes",
    0,
    MIN_RING_BYTES,
    MAX_RING_BYTES,
  );
  choiceOption(bad, ring.overflow, "ring.overflow", [
    "overwrite",
    "drop",
    "block",
  ]);
  const capacity = ringCapacity(ring.bytes ?? 8 * 1024 * 1024);
  if (
    ring.maxRecordBytes !== undefined &&
    (typeof ring.maxRecordBytes !== "number" ||
      !(ring.maxRecordBytes >= 256 && ring.maxRecordBytes <= capacity / 4))
  ) {
    bad(
      "ring.maxRecordBytes",
      ring.maxRecordBytes,
      `from 256 to a quarter of the ring (${capacity / 4})`,
    );
  }
  integerOption(
    bad,
    ring.dictionaryBytes,
    "ring.dictionaryBytes",
    0,
    MIN_DICTIONARY_BYTES,
    MAX_DICTIONARY_BYTES,
  );
}

function validateSnapshotOptions(snapshot: SnapshotOptions | undefined): void {
  if (snapshot === undefined) return;
  groupOption(bad, snapshot, "snapshot");
  for (const key of Object.keys(snapshot)) {
    if (!SNAPSHOT_KEYS.includes(key)) {
      throw new TtlogConfigError(
        `createLogger: unknown snapshot option ${JSON.stringify(key)} (known: ${
          SNAPSHOT_KEYS.join(", ")
        })`,
      );
    }
  }
  if (snapshot.store !== undefined && typeof snapshot.store !== "function") {
    bad(
      "snapshot.store",
      snapshot.store,
      "a function ({ name, reason, bytes }) => void | Promise<void>",
    );
  }
  textOption(bad, snapshot.dir, "snapshot.dir");
  integerOption(bad, snapshot.keep, "snapshot.keep", 1);
  choiceOption(bad, snapshot.compression, "snapshot.compression", [
    "lz4",
    "gzip",
    "none",
  ]);
  if (snapshot.on !== undefined) {
    if (!Array.isArray(snapshot.on)) {
      bad("snapshot.on", snapshot.on, 'an array, such as ["error"]');
    }
    for (const trigger of snapshot.on as readonly string[]) {
      if (!(SNAPSHOT_TRIGGERS as readonly string[]).includes(trigger)) {
        throw new TtlogConfigError(
          `createLogger: unknown snapshot.on trigger ${
            describeValue(trigger)
          } (known: ${choiceList(SNAPSHOT_TRIGGERS)})`,
        );
      }
    }
  }
  millisOption(bad, snapshot.minIntervalMs, "snapshot.minIntervalMs", 0);
  const window = groupOption(bad, snapshot.window, "snapshot.window");
  for (const [key, value] of Object.entries(window)) {
    if (key !== "ms" && key !== "bytes") {
      throw new TtlogConfigError(
        `createLogger: unknown snapshot.window option ${
          JSON.stringify(key)
        } (known: ms, bytes)`,
      );
    }
    if (typeof value !== "number" || !(value > 0)) {
      bad(`snapshot.window.${key}`, value, "a positive number");
    }
  }
}

/** Throws createLogger's TtlogConfigError for a bad option. */
const bad = badOption("createLogger");

/** Where snapshots go when `snapshot.dir` is not given. */
export const DEFAULT_SNAPSHOT_DIR = "ttlog-snapshots";

/** The snapshot options with every default filled in. */
export interface SnapshotSettings {
  /** The directory snapshot files go to. */
  readonly dir: string;
  /** Whether files are written (no when there is a store and no `dir`). */
  readonly writeFiles: boolean;
  /** The store, if any. */
  readonly store: SnapshotStore | undefined;
  /** How far back a snapshot goes (all the ring holds where unset). */
  readonly window: { readonly ms?: number; readonly bytes?: number };
  /** Files of this service to keep. */
  readonly keep: number;
  /** Chunk compression; undefined: LZ4 where it compiles, else none. */
  readonly compression: "lz4" | "gzip" | "none" | undefined;
  /** What takes a snapshot by itself. */
  readonly on: readonly SnapshotTrigger[];
  /** The least time between two snapshots on error events. */
  readonly minIntervalMs: number;
}

/**
 * createLogger's options, checked, with every default filled in: what the
 * logger runs on. The one place the defaults live.
 */
export interface Settings {
  readonly service: string;
  /** The emit level. */
  readonly level: LevelValue;
  /** The record level. */
  readonly recordLevel: LevelValue;
  /** Per-target emit levels (the option, else the TTLOG variable), if any. */
  readonly directives: string | undefined;
  /** The sinks, or undefined for the default (text on stdout). */
  readonly sinks: readonly Sink[] | undefined;
  /** The ring's bytes (a power of two). */
  readonly ringBytes: number;
  readonly overflow: OverflowPolicy;
  readonly maxRecordBytes: number;
  readonly dictionaryBytes: number;
  readonly redact: readonly string[];
  readonly limits: EncodeLimits;
  readonly worker: boolean | "auto";
  readonly exitTimeoutMs: number;
  readonly clock: "exact" | "coarse";
  readonly snapshot: SnapshotSettings;
}

/**
 * Reads, checks and completes createLogger's options: every mistake a
 * TtlogConfigError naming the option and the value, and a Proxy or getter
 * that throws one too.
 */
export function resolveSettings(
  options: LoggerOptions,
  env: (name: string) => string | undefined,
): { plain: LoggerOptions; settings: Settings } {
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
  const ring = plain.ring ?? {};
  const ringBytes = ringCapacity(ring.bytes ?? 8 * 1024 * 1024);
  const spec = plain.directives ?? env("TTLOG");
  const snapshot = plain.snapshot ?? {};
  return {
    plain,
    settings: {
      service: plain.service ?? "app",
      level: parseLevel(plain.level ?? "info", "level"),
      recordLevel: parseLevel(plain.recordLevel ?? "debug", "recordLevel"),
      directives: spec === undefined || spec.trim() === "" ? undefined : spec,
      sinks: plain.sinks,
      ringBytes,
      overflow: ring.overflow ?? "overwrite",
      maxRecordBytes: ring.maxRecordBytes ?? Math.min(16384, ringBytes / 4),
      dictionaryBytes: ring.dictionaryBytes ?? 1 << 20,
      redact: plain.redact ?? [],
      limits: { ...DEFAULT_LIMITS, ...plain.limits },
      worker: plain.worker ?? "auto",
      exitTimeoutMs: plain.exitTimeoutMs ?? 2000,
      clock: plain.clock ?? "exact",
      snapshot: {
        dir: snapshot.dir ?? DEFAULT_SNAPSHOT_DIR,
        writeFiles: snapshot.dir !== undefined || snapshot.store === undefined,
        store: snapshot.store,
        window: snapshot.window ?? {},
        keep: snapshot.keep ?? 20,
        compression: snapshot.compression,
        on: snapshot.on ?? [],
        minIntervalMs: snapshot.minIntervalMs ?? 10_000,
      },
    },
  };
}
