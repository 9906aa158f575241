/**
 * When a logger takes a snapshot, and how its process's ending goes: on an
 * error event (at most every `snapshot.minIntervalMs`), on demand (calls in
 * one microtask share a file), and at a crash, a signal or the exit, each
 * followed by a last flush that shares one `exitTimeoutMs` deadline.
 *
 * @module
 */

import { initLz4Sync } from "../codec/lz4.ts";
import { TtlogConfigError } from "../errors.ts";
import type { DrainHost } from "../drain/host.ts";
import type {
  SnapshotRequest,
  SnapshotSettings,
  SnapshotTrigger,
} from "../logger/options.ts";
import type { Metrics } from "../metrics.ts";
import { safeString } from "../record/encode.ts";
import { onProcessExit } from "../runtime/exit.ts";
import { runtime } from "../runtime/mod.ts";
import type { StoreRunner } from "./store.ts";
import {
  buildSnapshot,
  snapshotBytes,
  type SnapshotProducer,
  writeSnapshotFile,
} from "./writer.ts";

/** What a snapshot is taken of: a logger's rings, service and counters. */
export interface SnapshotSource {
  /** The logger's service name (in the header). */
  readonly service: string;
  /** Every ring of the logger (its own, then those handed out by port()). */
  readonly producers: readonly SnapshotProducer[];
  /** The snapshot store, if there is one. */
  readonly stores: StoreRunner | undefined;
  /** The logger's counters (in the header). */
  metrics(): Metrics;
  /** The sequence number of the last event this thread recorded. */
  lastSeq(): number;
}

/** The snapshots of one logger: when to take them, and taking them. */
export class SnapshotTriggers {
  readonly #settings: SnapshotSettings;
  readonly #source: SnapshotSource;
  #lastErrorSnapshot = -Infinity;
  #pending: Promise<string> | undefined;

  constructor(settings: SnapshotSettings, source: SnapshotSource) {
    this.#settings = settings;
    this.#source = source;
  }

  /** Where snapshot files go. */
  get dir(): string {
    return this.#settings.dir;
  }

  /**
   * A snapshot on `trigger` if `snapshot.on` asks for it; never throws (a
   * failure is reported on stderr). Returns whether one was written.
   */
  auto(trigger: SnapshotTrigger, detail: Record<string, unknown>): boolean {
    if (!this.#settings.on.includes(trigger)) return false;
    try {
      this.take(trigger, detail);
      return true;
    } catch (error) {
      runtime.write(
        "stderr",
        `ttlog: the snapshot on ${trigger} failed: ${safeString(error)}\n`,
      );
      return false;
    }
  }

  /** After an error or fatal event: a snapshot, if `snapshot.on` asks, at most every `minIntervalMs`. */
  errorLogged(): void {
    const settings = this.#settings;
    if (!settings.on.includes("error")) return;
    const now = Date.now();
    if (now - this.#lastErrorSnapshot < settings.minIntervalMs) return;
    this.#lastErrorSnapshot = now;
    // The event is the last one this thread recorded: the writer finds it
    // in the ring and puts its text in the header.
    this.auto("error", {
      kind: "error event",
      producer: 0,
      seq: this.#source.lastSeq(),
    });
  }

  /**
   * `log.snapshot()`: written in a microtask, so that every request made
   * before it runs (many handlers failing at once) shares one file.
   */
  shared(reason: string, request?: SnapshotRequest): Promise<string> {
    if (typeof reason !== "string" || reason === "") {
      return Promise.reject(badReason(reason));
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
          this.take(reason, undefined, where)
        );
      }
    }
    if (this.#pending !== undefined) return this.#pending;
    const pending = Promise.resolve().then(() => {
      this.#pending = undefined;
      return this.take(reason);
    });
    this.#pending = pending;
    return pending;
  }

  /** Writes a snapshot of every ring of the logger; returns its path (or its name, with a store and no dir). */
  take(
    reason: string,
    trigger?: Record<string, unknown>,
    where?: Readonly<Record<string, unknown>>,
  ): string {
    if (typeof reason !== "string" || reason === "") throw badReason(reason);
    const settings = this.#settings;
    const source = this.#source;
    const built = buildSnapshot(source.producers, {
      service: source.service,
      reason,
      runtime: runtime.name,
      runtimeVersion: runtime.version,
      trigger: trigger ??
        (where === undefined ? { kind: "manual" } : { kind: "manual", where }),
      counters: source.metrics(),
    }, {
      ms: settings.window.ms,
      bytes: settings.window.bytes,
      compression: settings.compression ?? defaultCompression(),
      where,
    });
    // The store first: a file system that fails must not keep it from
    // the snapshot.
    const stores = source.stores;
    stores?.put({ name: built.name, reason, bytes: snapshotBytes(built) });
    if (!settings.writeFiles) return built.name;
    return writeSnapshotFile(built, { dir: settings.dir, keep: settings.keep });
  }
}

function badReason(reason: unknown): TtlogConfigError {
  return new TtlogConfigError(
    `snapshot: reason must be a non-empty string, got ${safeString(reason)}`,
  );
}

/** What {@link watchEnding} needs of a logger. */
export interface Ending {
  /** The logger's snapshots. */
  readonly triggers: SnapshotTriggers;
  /** Its drain's host. */
  readonly host: DrainHost;
  /** Events recorded so far (a flush at the program's end runs once per new event). */
  recorded(): number;
  /** How long the ending may wait for the sinks, in all. */
  readonly exitTimeoutMs: number;
  /** Reports on stderr. */
  report(message: string): void;
}

/**
 * Hooks the process's ending: at the end of the program, a flush; at exit,
 * a signal or a crash, the snapshot `snapshot.on` asks for, then a flush
 * that blocks. Returns what removes the hooks.
 */
export function watchEnding(ending: Ending): () => void {
  const { triggers, host, exitTimeoutMs, report } = ending;
  let flushedAt = -1;
  // Set once a crash or signal snapshot is written: the exit that follows
  // is part of the same ending and takes no snapshot of its own.
  let ended = false;
  // One ending waits exitTimeoutMs in all: the end of the program's flush,
  // then the exit hook (or a crash's flush, then Node's exit event) share
  // one deadline, set by whichever comes first.
  let deadline: number | undefined;
  const left = () => {
    deadline ??= Date.now() + exitTimeoutMs;
    return Math.max(0, deadline - Date.now());
  };
  const pendingAt = (where: string) =>
    report(
      `ttlog: events still pending ${where}: exitTimeoutMs (${exitTimeoutMs} ms) spent`,
    );
  return onProcessExit({
    // The event loop is empty: deliver what is pending (once per new event).
    beforeExit: () => {
      const recorded = ending.recorded();
      if (recorded === flushedAt) return;
      flushedAt = recorded;
      host.flushWithin(left()).then((done) => {
        // Delivered: the program may go on, and a later ending gets its
        // own exitTimeoutMs.
        if (done) deadline = undefined;
        else pendingAt("at the end of the program");
      }, report);
    },
    exit: (code) => {
      if (!ended) triggers.auto("exit", { kind: "exit", code });
      if (!host.flushSync(left())) pendingAt("at exit");
    },
    signal: (signal) => {
      ended = triggers.auto("signal", { kind: "signal", signal }) || ended;
      if (!host.flushSync(left())) pendingAt("at a signal");
    },
    crash: (error, origin) => {
      ended = triggers.auto("crash", {
        kind: origin,
        error: describeError(error),
      }) || ended;
      // Deno and Bun end a crashed process without an exit event: deliver
      // what is pending now.
      if (!host.flushSync(left())) pendingAt("at a crash");
    },
  });
}

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
