/**
 * A sink that keeps decoded records in memory, for tests and for users' own
 * tests.
 *
 * @module
 */

import type { LogRecord } from "../record/values.ts";
import type { Sink } from "./sink.ts";

/** A {@link Sink} that keeps what it receives. */
export interface MemorySink extends Sink {
  /** Every record received, oldest first (the oldest go first past `limit`). */
  readonly records: LogRecord[];
  /** Forgets every record kept. */
  clear(): void;
}

/** Options of {@link memorySink}. */
export interface MemorySinkOptions {
  /** Most records kept; the oldest are forgotten past it (default: no limit). */
  readonly limit?: number;
}

/**
 * Creates a sink that keeps decoded records (`time`, `level`, `target`,
 * `msg`, `fields`) in an array.
 *
 * @param options How many records to keep.
 * @returns The sink; read its `records` after `await log.flush()`.
 *
 * @example Assert on what was logged
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * log.info("order placed", { id: 7 });
 * await log.flush();
 * assert.equal(sink.records[0].msg, "order placed");
 * assert.deepEqual(sink.records[0].fields, { id: 7 });
 * await log.close();
 * ```
 */
export function memorySink(options: MemorySinkOptions = {}): MemorySink {
  const limit = options.limit ?? Infinity;
  const records: LogRecord[] = [];
  return {
    name: "memory",
    records,
    write(batch: readonly LogRecord[]): void {
      for (const record of batch) records.push(record);
      if (records.length > limit) records.splice(0, records.length - limit);
    },
    clear(): void {
      records.length = 0;
    },
  };
}
