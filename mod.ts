/**
 * ttlog: a time-travel logger for Deno, Bun, Node and edge runtimes.
 *
 * Every event at or above the record level is encoded as a compact binary
 * record into an in-memory ring (the flight recorder); events at or above
 * their target's emit level are decoded, formatted and written to sinks off
 * the hot path.
 *
 * @example Log, flush, read the counters
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 *
 * const sink = memorySink();
 * const log = createLogger({
 *   service: "checkout",
 *   level: "info",
 *   recordLevel: "debug",
 *   directives: "info,db=debug",
 *   sinks: [sink],
 *   redact: ["password"],
 * });
 * const user = "ada";
 * log.info`user ${user} logged in`;
 * log.warn("slow query", { ms: 812, table: "orders" });
 * const db = log.child("db", { pool: "main" });
 * db.debug`query took ${12}ms`;
 * await log.flush();
 * assert.deepEqual(sink.records.map((r) => r.msg), [
 *   "user ada logged in",
 *   "slow query",
 *   "query took 12ms",
 * ]);
 * assert.deepEqual(sink.records[2].fields, { pool: "main" });
 * assert.equal(log.metrics().emitted, 3);
 * await log.close();
 * ```
 *
 * @module
 */

export { attachLogger, createLogger } from "./src/logger/logger.ts";
export type {
  Fields,
  Logger,
  LoggerPort,
  LogMethod,
} from "./src/logger/types.ts";
export type {
  LoggerOptions,
  RingOptions,
  SnapshotOptions,
  SnapshotRequest,
  SnapshotTrigger,
} from "./src/logger/options.ts";
export {
  httpStore,
  type HttpStoreOptions,
  type SnapshotStore,
  type StoredSnapshot,
} from "./src/snapshot/store.ts";
export type { ReplayRequest, ReplayResult } from "./src/snapshot/replay.ts";
export { Level, type LevelName, type ThresholdName } from "./src/level.ts";
export { TtlogConfigError } from "./src/errors.ts";
export { type Metrics, prometheusText } from "./src/metrics.ts";
export {
  getContext,
  useAsyncLocalStorage,
  withContext,
} from "./src/context.ts";
export { Span } from "./src/span.ts";
export {
  captureConsole,
  type CaptureConsoleOptions,
} from "./src/capture_console.ts";
export type { EncodeLimits } from "./src/record/encode.ts";
export type { OverflowPolicy } from "./src/ring/ring.ts";
export { LoggedError, type LogRecord, Marker } from "./src/record/values.ts";
export type { Formatter, Sink } from "./src/sinks/sink.ts";
export {
  type MemorySink,
  memorySink,
  type MemorySinkOptions,
} from "./src/sinks/memory.ts";
export { consoleSink, type ConsoleSinkOptions } from "./src/sinks/console.ts";
export {
  type FileRotateOptions,
  fileSink,
  type FileSinkOptions,
} from "./src/sinks/file.ts";
export {
  type HttpSink,
  httpSink,
  type HttpSinkOptions,
} from "./src/sinks/http.ts";
export { streamSink, type StreamSinkOptions } from "./src/sinks/stream.ts";
export { textFormatter, type TextFormatterOptions } from "./src/format/text.ts";
export {
  ndjsonFormatter,
  type NdjsonFormatterOptions,
} from "./src/format/ndjson.ts";
export { initLz4, type Lz4InitOptions } from "./src/codec/lz4.ts";
