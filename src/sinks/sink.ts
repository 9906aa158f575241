/**
 * The sink interface: where decoded records go, or, for sinks that store
 * records as they are (`writeRaw`), the records' bytes.
 *
 * @module
 */

import type { LogRecord } from "../record/values.ts";

/**
 * A destination for records. The drain calls `write` with batches of records
 * in order; a sink that returns a promise is awaited before `flush()` resolves.
 * A sink that throws or rejects is counted and reported, and never stops the
 * other sinks.
 *
 * @example A sink that counts records
 * ```ts
 * import { createLogger, type LogRecord, type Sink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * let count = 0;
 * const counting: Sink = {
 *   name: "counting",
 *   write(records: readonly LogRecord[]) { count += records.length; },
 * };
 * const log = createLogger({ sinks: [counting] });
 * log.info("one");
 * await log.close();
 * assert.equal(count, 1);
 * ```
 */
export interface Sink {
  /** A short name for metrics and error reports. */
  readonly name: string;
  /** Takes a batch of records, oldest first. */
  write(records: readonly LogRecord[]): void | Promise<void>;
  /**
   * Set by a sink that stores records undecoded (such as
   * `fileSink({ format: "ttlog" })`): the drain then calls this instead of
   * `write`, with each producer's emitted records exactly as they sit in its
   * ring and the dictionary entries they need, and decodes nothing for it.
   * The same events reach it as reach `write` of the other sinks: those at
   * or above their target's emit level, plus their losses.
   */
  writeRaw?(batches: readonly RawBatch[]): void | Promise<void>;
  /** Pushes anything buffered to its destination. */
  flush?(): void | Promise<void>;
  /** Flushes and releases the destination; called once. */
  close?(): void | Promise<void>;
  /**
   * How a drain running in a worker rebuilds this sink there. Sinks without
   * one (a memory sink, your own object) keep the drain on the caller's
   * thread.
   */
  readonly spec?: SinkSpec;
  /**
   * Set when a failed `write` may succeed later: the drain then writes the
   * same batch again after `delayMs`, doubling each time, up to `attempts`
   * writes in all. Every failure is counted in the sink's `errors`.
   */
  readonly retry?: { readonly attempts: number; readonly delayMs: number };
}

/**
 * A recipe for a sink: the worker imports `module`, calls its export
 * `factory` with `options` (which must survive structured clone) and gets
 * an equivalent sink.
 */
export interface SinkSpec {
  /** URL of the module that exports the factory (its `import.meta.url`). */
  readonly module: string;
  /** The factory's export name, such as `"fileSink"`. */
  readonly factory: string;
  /** The factory's options. */
  readonly options: unknown;
}

/** A dictionary entry, as a producer's dictionary stores it. */
export interface RawEntry {
  /** Its id (1 and up, in the order the producer added entries). */
  readonly id: number;
  /** 1 string (key or target), 2 call site (docs/FORMAT.md, "Dictionary"). */
  readonly kind: number;
  /** Its payload, exactly as stored. */
  readonly payload: Uint8Array;
}

/** Events a producer lost: a "lost N events" record, undecoded. */
export interface RawLoss {
  /** How many events. */
  readonly lost: number;
  /** Why: overwritten before the drain read them, undecodable, or dropped. */
  readonly reason: string;
}

/**
 * What a raw sink gets of one producer in one pass of the drain. The
 * batches of one producer arrive in order, each carrying the dictionary
 * entries the producer added since its previous batch: a sink that keeps
 * every entry it was given can decode every record.
 */
export interface RawBatch {
  /** The logger's service name. */
  readonly service: string;
  /** The producer: 0 for the logger's own ring, then rings from `port()`. */
  readonly producer: number;
  /**
   * Whole event records, exactly as in the ring (docs/FORMAT.md, "Record"),
   * oldest first, without pads: those at or above their target's emit level.
   */
  readonly records: Uint8Array;
  /** How many records. */
  readonly count: number;
  /** Dictionary entries added since this producer's previous batch. */
  readonly entries: readonly RawEntry[];
  /** Events lost around these records ("lost N events"), to write before them. */
  readonly losses: readonly RawLoss[];
}

/** Turns one record into one line of text, without the line end. */
export type Formatter = (record: LogRecord) => string;
