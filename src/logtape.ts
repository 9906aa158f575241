/**
 * A LogTape sink that logs into ttlog: libraries that log through LogTape
 * land in ttlog's ring with everything else (their debug events included,
 * for snapshots). Needs no LogTape import: the sink is a plain function of
 * LogTape's record shape.
 *
 * ```ts
 * import { configure } from "@logtape/logtape";
 * import { createLogger } from "@ttlog/ttlog";
 * import { ttlogSink } from "@ttlog/ttlog/logtape";
 * const log = createLogger();
 * await configure({
 *   sinks: { ttlog: ttlogSink(log) },
 *   loggers: [{ category: ["my-lib"], sinks: ["ttlog"], lowestLevel: "debug" }],
 * });
 * ```
 *
 * @module
 */

import { isValidTarget } from "./directives.ts";
import { TtlogConfigError } from "./errors.ts";
import type { Logger } from "./logger/types.ts";
import { renderValue } from "./record/decode.ts";
import { safeString } from "./record/encode.ts";

/**
 * The fields of a LogTape log record that the sink reads.
 *
 * @example Pass a record on by hand
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { type LogTapeRecord, ttlogSink } from "@ttlog/ttlog/logtape";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * // What LogTape passes for logger.error("Payment failed"):
 * const record: LogTapeRecord = {
 *   category: ["billing"],
 *   level: "error",
 *   message: ["Payment failed"],
 *   rawMessage: "Payment failed",
 *   timestamp: Date.now(),
 *   properties: { order: 7 },
 * };
 * ttlogSink(log)(record);
 * await log.flush();
 * assert.equal(sink.records[0].target, "billing");
 * assert.equal(sink.records[0].msg, "Payment failed");
 * assert.deepEqual(sink.records[0].fields, { order: 7 });
 * await log.close();
 * ```
 */
export interface LogTapeRecord {
  /** The logger's category, such as `["my-lib", "db"]`. */
  readonly category: readonly string[];
  /** LogTape's level. */
  readonly level: "trace" | "debug" | "info" | "warning" | "error" | "fatal";
  /** The message: text parts with the values between them. */
  readonly message: readonly unknown[];
  /** The message template, a string or a tagged template's strings. */
  readonly rawMessage: string | TemplateStringsArray;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  /** The record's properties. */
  readonly properties: Record<string, unknown>;
}

/**
 * Options of {@link ttlogSink}.
 *
 * @example Put every LogTape category under one target
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { ttlogSink, type TtlogSinkOptions } from "@ttlog/ttlog/logtape";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * const options: TtlogSinkOptions = { prefix: "deps" };
 * ttlogSink(log, options)({
 *   category: ["my-lib", "db"],
 *   level: "info",
 *   message: ["connected"],
 *   rawMessage: "connected",
 *   timestamp: Date.now(),
 *   properties: {},
 * });
 * await log.flush();
 * assert.equal(sink.records[0].target, "deps.my-lib.db");
 * await log.close();
 * ```
 */
export interface TtlogSinkOptions {
  /** A target prefix for every category (default none: `["my-lib", "db"]` becomes `my-lib.db`). */
  readonly prefix?: string;
}

const LEVELS = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warning: "warn",
  error: "error",
  fatal: "fatal",
} as const;

/** A category part as a target part: characters ttlog targets refuse become `_`. */
function targetPart(part: string): string {
  const cleaned = part.replace(/[^A-Za-z0-9_-]/g, "_");
  return cleaned === "" ? "_" : cleaned;
}

/**
 * A LogTape sink writing into `log`: the category becomes the target (its
 * parts joined with dots), LogTape's levels map to ttlog's (`warning` to
 * warn), the message is rendered as LogTape renders it, and the properties
 * become fields. A tagged-template message without properties goes in as a
 * ttlog template, so it keeps one call site and its typed values. The
 * event's time is ttlog's (LogTape calls its sinks synchronously).
 *
 * @param log The ttlog logger.
 * @param options A target prefix.
 * @returns A function to give LogTape's `configure({ sinks })`.
 * @throws {TtlogConfigError} When `log` is not a logger or the prefix is
 *   not a valid target.
 *
 * @example
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { ttlogSink } from "@ttlog/ttlog/logtape";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * const toTtlog = ttlogSink(log);
 * // What LogTape passes for logger.warn("Slow query {ms}", { ms: 812 }):
 * toTtlog({
 *   category: ["my-lib", "db"],
 *   level: "warning",
 *   message: ["Slow query ", 812, ""],
 *   rawMessage: "Slow query {ms}",
 *   timestamp: Date.now(),
 *   properties: { ms: 812 },
 * });
 * await log.flush();
 * assert.equal(sink.records[0].target, "my-lib.db");
 * assert.equal(sink.records[0].level, "warn");
 * assert.equal(sink.records[0].msg, "Slow query 812");
 * assert.deepEqual(sink.records[0].fields, { ms: 812 });
 * await log.close();
 * ```
 */
export function ttlogSink(
  log: Logger,
  options: TtlogSinkOptions = {},
): (record: LogTapeRecord) => void {
  if (
    typeof log !== "object" || log === null ||
    typeof (log as Logger).child !== "function"
  ) {
    throw new TtlogConfigError(
      `ttlogSink: the first argument must be a logger from createLogger()`,
    );
  }
  const prefix = options.prefix ?? "";
  if (prefix !== "" && !isValidTarget(prefix)) {
    throw new TtlogConfigError(
      `ttlogSink: prefix ${JSON.stringify(prefix)} is not a valid target`,
    );
  }
  const loggers = new Map<string, Logger>();
  const loggerFor = (category: readonly string[]): Logger => {
    const key = category.join("\u0000");
    let logger = loggers.get(key);
    if (logger === undefined) {
      const parts = category.map(targetPart);
      if (prefix !== "") parts.unshift(prefix);
      logger = parts.length === 0 ? log : log.child(parts.join("."));
      loggers.set(key, logger);
    }
    return logger;
  };
  return (record) => {
    const logger = loggerFor(record.category);
    const level = LEVELS[record.level] ?? "info";
    const raw = record.rawMessage;
    const properties = record.properties;
    const hasProperties = properties !== undefined &&
      Object.keys(properties).length > 0;
    if (typeof raw !== "string" && !hasProperties) {
      // A tagged template: ttlog's own template path, one call site.
      const values: unknown[] = [];
      for (let i = 1; i < record.message.length; i += 2) {
        values.push(record.message[i]);
      }
      logger[level](raw, ...values);
      return;
    }
    let text = "";
    const message = record.message;
    for (let i = 0; i < message.length; i++) {
      const part = message[i];
      text += i % 2 === 0
        ? String(part)
        : typeof part === "string"
        ? part
        : part instanceof Error
        ? safeString(part)
        : renderValue(part);
    }
    if (hasProperties) logger[level](text, properties);
    else logger[level](text);
  };
}
