/**
 * For writing sinks, formatters and readers of ttlog's records: the sink
 * interface and the raw batches a sink may take, the decoded record's
 * values, levels and directives as numbers and parsers, the runtime
 * adapter ttlog writes through, and the HTTP sink's option parts. An
 * application needs none of it: `@ttlog/ttlog` has what it logs with.
 *
 * @example A sink that counts the events at warn and above
 * ```ts
 * import { createLogger, Level } from "@ttlog/ttlog";
 * import { type LogRecord, parseLevel, type Sink } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 *
 * let serious = 0;
 * const counter: Sink = {
 *   name: "counter",
 *   write(records: readonly LogRecord[]) {
 *     for (const r of records) if (parseLevel(r.level) >= Level.warn) serious++;
 *   },
 * };
 * const log = createLogger({ sinks: [counter] });
 * log.info("one");
 * log.warn("two");
 * log.error("three");
 * await log.flush();
 * assert.equal(serious, 2);
 * await log.close();
 * ```
 *
 * @module
 */

export type {
  Formatter,
  RawBatch,
  RawEntry,
  RawLoss,
  Sink,
  SinkDelivery,
  SinkSpec,
} from "./sinks/sink.ts";
export {
  type FieldValues,
  LoggedError,
  type LogRecord,
  Marker,
  type MarkerKind,
} from "./record/values.ts";
export { TtlogFormatError } from "./record/decode.ts";
export {
  Level,
  LEVEL_NAMES,
  type LevelName,
  levelName,
  type LevelValue,
  parseLevel,
  type ThresholdName,
} from "./level.ts";
export {
  type Directives,
  isValidTarget,
  levelFor,
  minLevel,
  parseDirectives,
  type TargetDirective,
} from "./directives.ts";
export type { HasMetrics } from "./metrics.ts";
export { initLz4Sync } from "./codec/lz4.ts";
export { detectRuntime, runtime } from "./runtime/mod.ts";
export type { Runtime, RuntimeName, StdStream } from "./runtime/runtime.ts";
export type {
  HttpBatchOptions,
  HttpRetryOptions,
  HttpSinkStats,
} from "./sinks/http.ts";
