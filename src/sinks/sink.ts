/**
 * The sink interface: where decoded records go.
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

/** Turns one record into one line of text, without the line end. */
export type Formatter = (record: LogRecord) => string;
