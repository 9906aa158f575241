/**
 * A sink that keeps decoded records in memory, for tests and for users' own
 * tests.
 *
 * @module
 */

import type { LogRecord } from "../record/values.ts";
import type { Sink } from "./sink.ts";
import {
  type BadOption,
  badOption,
  integerOption,
  isPlainObject,
} from "../validate.ts";

/**
 * A {@link Sink} that keeps what it receives.
 *
 * @example Clear between checks
 * ```ts
 * import { createLogger, type MemorySink, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink: MemorySink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * log.info("first");
 * await log.flush();
 * assert.equal(sink.records.length, 1);
 * sink.clear();
 * log.info("second");
 * await log.flush();
 * assert.deepEqual(sink.records.map((r) => r.msg), ["second"]);
 * await log.close();
 * ```
 */
export interface MemorySink extends Sink {
  /** Every record received, oldest first (the oldest go first past `limit`). */
  readonly records: LogRecord[];
  /** Forgets every record kept. */
  clear(): void;
}

/**
 * Options of {@link memorySink}.
 *
 * @example Keep only the newest records
 * ```ts
 * import { createLogger, memorySink, type MemorySinkOptions } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const options: MemorySinkOptions = { limit: 2 };
 * const sink = memorySink(options);
 * const log = createLogger({ sinks: [sink] });
 * for (const msg of ["a", "b", "c"]) log.info(msg);
 * await log.flush();
 * assert.deepEqual(sink.records.map((r) => r.msg), ["b", "c"]);
 * await log.close();
 * ```
 */
export interface MemorySinkOptions {
  /**
   * Most records kept, an integer >= 1; the oldest are forgotten past it
   * (default: no limit).
   */
  readonly limit?: number;
}

/**
 * Creates a sink that keeps decoded records (`time`, `level`, `target`,
 * `msg`, `fields`) in an array.
 *
 * @param options How many records to keep.
 * @returns The sink; read its `records` after `await log.flush()`.
 * @throws {TtlogConfigError} When `limit` is not an integer >= 1.
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
  const bad: BadOption = badOption("memorySink");
  if (!isPlainObject(options)) bad("options", options, "an object");
  const limit = integerOption(bad, options.limit, "limit", Infinity);
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
