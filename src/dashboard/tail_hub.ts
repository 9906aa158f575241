/**
 * The serving side of the live tail: polls a dashboard sink's ring while
 * at least one event stream is open, keeps the recent entries for streams
 * that open later, and hands each stream the entries its filter keeps. The
 * entries come with their line for the page and what filters test
 * (./tail_entry.ts): nothing is parsed here.
 *
 * @module
 */

import type { TextTest } from "../reader/filter.ts";
import { decodeTailEntry, type TailEntry } from "./tail_entry.ts";
import { type TailCounters, TailRing } from "./tail_ring.ts";

/** What a stream gets from each poll. */
export interface TailListener {
  /** Keeps an entry; all when undefined. */
  readonly test: TextTest | undefined;
  /** Called with the new entries it keeps (maybe none) and whether entries were missed. */
  deliver(entries: readonly TailEntry[], lapped: boolean): void;
}

/**
 * Reads a tail ring for the streams that listen.
 *
 * @example Two events, one listener
 * ```ts
 * import { dashboardSink } from "./sink.ts";
 * import { TailHub } from "./tail_hub.ts";
 * import assert from "node:assert/strict";
 * const sink = dashboardSink();
 * const hub = new TailHub(sink.memory, { pollMs: 10, keep: 100 });
 * const seen: string[] = [];
 * const stop = hub.listen({
 *   test: (e) => e.level === "error",
 *   deliver: (entries) => entries.forEach((e) => seen.push(e.msg)),
 * });
 * sink.write([
 *   { time: 1, level: "info", target: "", msg: "a", fields: {}, service: "s", seq: 0 },
 *   { time: 2, level: "error", target: "db", msg: "b", fields: { ms: 3 }, service: "s", seq: 1 },
 * ]);
 * hub.poll(); // the timer does this every pollMs
 * assert.deepEqual(seen, ["b"]);
 * assert.deepEqual(hub.recent(undefined, 0, 10).map((e) => e.msg), ["a", "b"]);
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
   * @param options How often to poll while listened to, and how many recent entries to keep.
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
   * The counters now (events per level, events skipped by the rate cap).
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
    test: TextTest | undefined,
    after: number,
    limit: number,
  ): TailEntry[] {
    const out: TailEntry[] = [];
    for (let i = this.#recent.length - 1; i >= 0 && out.length < limit; i--) {
      const entry = this.#recent[i];
      if (entry.id <= after) break;
      if (test === undefined || test(entry)) out.push(entry);
    }
    return out.reverse();
  }

  /** Reads new entries and hands them out. */
  poll(): void {
    const { records, lapped } = this.#ring.read();
    if (records.length === 0 && !lapped) return;
    const fresh: TailEntry[] = [];
    for (const bytes of records) {
      const entry = decodeTailEntry(this.#nextId, bytes);
      if (entry !== undefined) {
        this.#nextId++;
        fresh.push(entry);
      }
    }
    for (const entry of fresh) this.#recent.push(entry);
    if (this.#recent.length > this.#keep) {
      this.#recent.splice(0, this.#recent.length - this.#keep);
    }
    for (const listener of this.#listeners) {
      const test = listener.test;
      listener.deliver(
        test === undefined ? fresh : fresh.filter(test),
        lapped,
      );
    }
  }
}
