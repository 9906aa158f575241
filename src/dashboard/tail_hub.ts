/**
 * The serving side of the live tail: polls a dashboard sink's ring while
 * at least one event stream is open, keeps the recent lines for streams
 * that open later, and hands each stream the lines its filter keeps.
 *
 * @module
 */

import type { LevelName } from "../level.ts";
import type { LogRecord } from "../record/values.ts";
import type { RecordTest } from "../reader/filter.ts";
import { type TailCounters, TailRing } from "./tail_ring.ts";

/** One tail line, numbered in the order the hub read it. */
export interface TailEntry {
  /** 1 and up. */
  readonly id: number;
  /** The ndjson line. */
  readonly line: string;
  /** The line read back as a record, for filters. */
  readonly record: LogRecord;
}

/** What a stream gets from each poll. */
export interface TailListener {
  /** Keeps a record; all when undefined. */
  readonly test: RecordTest | undefined;
  /** Called with the new entries it keeps (maybe none) and whether lines were missed. */
  deliver(entries: readonly TailEntry[], lapped: boolean): void;
}

const TOP_KEYS = new Set(["time", "level", "target", "msg", "service", "seq"]);

/** A record from an ndjson line (fields as JSON values), or undefined. */
function recordOf(line: string): LogRecord | undefined {
  try {
    const object = JSON.parse(line) as Record<string, unknown>;
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(object)) {
      if (!TOP_KEYS.has(key)) fields[key] = object[key];
    }
    return {
      time: Number(object.time),
      level: String(object.level) as LevelName,
      target: String(object.target ?? ""),
      msg: String(object.msg ?? ""),
      service: String(object.service ?? ""),
      seq: Number(object.seq ?? 0),
      fields,
    };
  } catch {
    return undefined;
  }
}

/**
 * Reads a tail ring for the streams that listen.
 *
 * @example Two lines, one listener
 * ```ts
 * import { dashboardSink } from "./sink.ts";
 * import { TailHub } from "./tail_hub.ts";
 * import assert from "node:assert/strict";
 * const sink = dashboardSink();
 * const hub = new TailHub(sink.memory, { pollMs: 10, keep: 100 });
 * const seen: string[] = [];
 * const stop = hub.listen({
 *   test: (r) => r.level === "error",
 *   deliver: (entries) => entries.forEach((e) => seen.push(e.record.msg)),
 * });
 * sink.write([
 *   { time: 1, level: "info", target: "", msg: "a", fields: {}, service: "s", seq: 0 },
 *   { time: 2, level: "error", target: "db", msg: "b", fields: { ms: 3 }, service: "s", seq: 1 },
 * ]);
 * hub.poll(); // the timer does this every pollMs
 * assert.deepEqual(seen, ["b"]);
 * assert.deepEqual(hub.recent(undefined, 0, 10).map((e) => e.record.msg), ["a", "b"]);
 * stop();
 * ```
 */
export class TailHub {
  readonly #ring: TailRing;
  readonly #pollMs: number;
  readonly #keep: number;
  readonly #recent: TailEntry[] = [];
  readonly #listeners = new Set<TailListener>();
  #nextId = 1;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Creates a hub over a dashboard sink's memory.
   *
   * @param memory The sink's `memory`.
   * @param options How often to poll while listened to, and how many recent lines to keep.
   */
  constructor(
    memory: SharedArrayBuffer | ArrayBuffer,
    options: { pollMs: number; keep: number },
  ) {
    this.#ring = new TailRing(memory);
    this.#pollMs = options.pollMs;
    this.#keep = options.keep;
  }

  /**
   * The counters now (events per level, lines skipped by the rate cap).
   *
   * @returns The counters.
   */
  counters(): TailCounters {
    return this.#ring.counters();
  }

  /**
   * Starts delivering to `listener`: reads the ring at once (so that
   * {@link recent} is current), then every poll while anyone listens.
   *
   * @param listener The stream.
   * @returns A function that stops it.
   */
  listen(listener: TailListener): () => void {
    this.poll();
    this.#listeners.add(listener);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.poll(), this.#pollMs);
      (this.#timer as { unref?: () => void }).unref?.();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#timer !== undefined) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  /**
   * The newest kept entries after `after` that `test` keeps, oldest first.
   *
   * @param test The filter, or undefined for all.
   * @param after Only entries with a larger id.
   * @param limit At most this many (the newest).
   * @returns The entries.
   */
  recent(
    test: RecordTest | undefined,
    after: number,
    limit: number,
  ): TailEntry[] {
    const out: TailEntry[] = [];
    for (let i = this.#recent.length - 1; i >= 0 && out.length < limit; i--) {
      const entry = this.#recent[i];
      if (entry.id <= after) break;
      if (test === undefined || test(entry.record)) out.push(entry);
    }
    return out.reverse();
  }

  /** Reads new lines and hands them out. */
  poll(): void {
    const { lines, lapped } = this.#ring.read();
    if (lines.length === 0 && !lapped) return;
    const fresh: TailEntry[] = [];
    for (const line of lines) {
      const record = recordOf(line);
      if (record !== undefined) {
        fresh.push({ id: this.#nextId++, line, record });
      }
    }
    for (const entry of fresh) this.#recent.push(entry);
    if (this.#recent.length > this.#keep) {
      this.#recent.splice(0, this.#recent.length - this.#keep);
    }
    for (const listener of this.#listeners) {
      const test = listener.test;
      listener.deliver(
        test === undefined ? fresh : fresh.filter((e) => test(e.record)),
        lapped,
      );
    }
  }
}
