/**
 * Log levels: names, numeric values and parsing.
 *
 * Levels are small integers so that the hot path compares numbers, never
 * strings. `off` is above every level and disables a target.
 *
 * @module
 */

import { TtlogConfigError } from "./errors.ts";

/**
 * The six level names, lowest first.
 *
 * @example List the levels
 * ```ts
 * import { Level } from "@ttlog/ttlog";
 * import { LEVEL_NAMES } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * assert.equal(LEVEL_NAMES.length, 6);
 * assert.equal(LEVEL_NAMES[Level.warn], "warn");
 * ```
 */
export const LEVEL_NAMES = [
  "trace",
  "debug",
  "info",
  "warn",
  "error",
  "fatal",
] as const;

/**
 * A level name: `"trace"`, `"debug"`, `"info"`, `"warn"`, `"error"` or `"fatal"`.
 *
 * @example Check a level by name
 * ```ts
 * import { createLogger, type LevelName, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const log = createLogger({ recordLevel: "info", sinks: [memorySink()] });
 * const quiet: LevelName = "debug";
 * assert.equal(log.enabled(quiet), false);
 * assert.equal(log.enabled("warn"), true);
 * await log.close();
 * ```
 */
export type LevelName = typeof LEVEL_NAMES[number];

/**
 * A threshold name: a level name or `"off"` (nothing passes).
 *
 * @example Turn emitting off
 * ```ts
 * import { createLogger, memorySink, type ThresholdName } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const level: ThresholdName = "off";
 * const log = createLogger({ level, sinks: [sink] });
 * log.error("recorded in the ring only");
 * await log.flush();
 * assert.equal(sink.records.length, 0);
 * await log.close();
 * ```
 */
export type ThresholdName = LevelName | "off";

/**
 * Numeric level values, as stored in records.
 *
 * @example Compare levels by number
 * ```ts
 * import { Level } from "@ttlog/ttlog";
 * import { parseLevel } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * assert.equal(parseLevel("error"), Level.error);
 * assert.ok(Level.warn > Level.info);
 * ```
 */
export const Level = {
  trace: 0,
  debug: 1,
  info: 2,
  warn: 3,
  error: 4,
  fatal: 5,
  off: 6,
} as const;

/**
 * A numeric level value (0 trace ... 5 fatal, 6 off).
 *
 * @example Compare numeric levels
 * ```ts
 * import { Level } from "@ttlog/ttlog";
 * import { type LevelValue, parseLevel } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * const threshold: LevelValue = parseLevel("warn");
 * assert.ok(Level.error >= threshold);
 * assert.ok(Level.info < threshold);
 * ```
 */
export type LevelValue = typeof Level[ThresholdName];

/**
 * Parses a threshold name (case-insensitive, surrounding spaces ignored).
 *
 * @param name A level name or `"off"`.
 * @param what Names the option being parsed, for the error message.
 * @returns The numeric level.
 * @throws {TtlogConfigError} When `name` is not a level name.
 *
 * @example Parse a level
 * ```ts
 * import { parseLevel } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * assert.equal(parseLevel("WARN"), 3);
 * ```
 */
export function parseLevel(name: unknown, what = "level"): LevelValue {
  if (typeof name === "string") {
    const key = name.trim().toLowerCase();
    if (Object.hasOwn(Level, key)) {
      return (Level as Record<string, LevelValue>)[key];
    }
  }
  throw new TtlogConfigError(
    `${what}: unknown level ${
      typeof name === "string" ? JSON.stringify(name) : String(typeof name)
    } (expected one of trace, debug, info, warn, error, fatal, off)`,
  );
}

/**
 * The name of a numeric level.
 *
 * @param value A numeric level (0-6).
 * @returns Its name, or `"off"` for 6 and anything out of range.
 *
 * @example Name a level
 * ```ts
 * import { levelName } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * assert.equal(levelName(2), "info");
 * ```
 */
export function levelName(value: number): ThresholdName {
  return LEVEL_NAMES[value] ?? "off";
}
