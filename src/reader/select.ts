/**
 * Selecting events from .ttlog files: read them (./read.ts), filter the
 * events (./filter.ts) as chunks arrive, merge them in time order and keep
 * the newest N. What `ttlog view`, `convert`, `stats` and `tail` print and
 * what the dashboard's snapshot view shows are this one selection.
 *
 * @module
 */

import type { LogRecord } from "../record/values.ts";
import { ReaderError } from "./errors.ts";
import {
  type EventFilter,
  headerTest,
  hidesLossRecords,
  needsNewest,
  recordTest,
  timeTest,
} from "./filter.ts";
import { mergeStreams, readFiles, type ReadResult } from "./read.ts";

/** How {@link selectEvents} selects, beyond the filter. */
export interface SelectOptions {
  /** Keep only the newest N selected events (all when undefined). */
  readonly last?: number;
  /** Give records their call site's `template` (for stats). */
  readonly templates?: boolean;
  /**
   * Read only regular files, opened without following a symbolic link (see
   * `ReadOptions.noFollow`).
   */
  readonly noFollow?: boolean;
}

/** The events {@link selectEvents} selected, and what was read. */
export interface Selection {
  /** The records, in time order: the newest `last` when `last` is given. */
  readonly records: LogRecord[];
  /** Whether more events matched than `last` (only the newest are given). */
  readonly more: boolean;
  /**
   * What was read: per file, whether it was truncated or corrupt and how
   * many records could not be decoded.
   */
  readonly read: ReadResult;
}

/**
 * Reads `paths` and selects events: the filter is applied as chunks arrive
 * (relative times once the newest event is known), then the streams are
 * merged by time and `last` keeps the newest. What was wrong with a file
 * (truncated, corrupt, undecodable records) is in `read.files`, for the
 * caller to report.
 *
 * @param paths The files.
 * @param filter The filters.
 * @param options How many to keep, templates, whether to follow links.
 * @returns The events, and what was read.
 * @throws {ReaderError} When a file cannot be read or is not a .ttlog file.
 *
 * @example The last warning or worse of a snapshot
 * ```ts
 * import { createLogger, memorySink } from "../../mod.ts";
 * import { selectEvents } from "./select.ts";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-doc-"));
 * const log = createLogger({ sinks: [memorySink()], snapshot: { dir } });
 * log.warn("slow", { ms: 900 });
 * log.error("failed", { order: 7 });
 * log.info("done");
 * const path = await log.snapshot("example");
 * await log.close();
 * const { records, more } = selectEvents([path], { level: "warn" }, { last: 1 });
 * assert.deepEqual(records.map((r) => r.msg), ["failed"]);
 * assert.equal(more, true);
 * rmSync(dir, { recursive: true });
 * ```
 */
export function selectEvents(
  paths: readonly string[],
  filter: EventFilter,
  options: SelectOptions = {},
): Selection {
  const { last } = options;
  const relative = needsNewest(filter);
  const read = readFiles(paths, {
    noFollow: options.noFollow,
    keep: recordTest(filter),
    header: hidesLossRecords(filter) ? headerTest(filter) : undefined,
    // One more than shown, so that `more` can be told.
    lastPerStream: relative || last === undefined ? undefined : last + 1,
    templates: options.templates,
  });
  let streams = read.streams;
  if (relative) {
    const test = timeTest(filter, read.newest);
    if (test !== undefined) {
      streams = streams.map((stream) => ({
        ...stream,
        records: stream.records.filter(test),
      }));
    }
  }
  let records = mergeStreams(streams);
  const more = last !== undefined && records.length > last;
  if (last !== undefined && more) records = records.slice(-last);
  return { records, more, read };
}

/**
 * Parses a positive whole number option (`--last N`, `--top N`, `last=N`).
 *
 * @param command Who asks, for the message.
 * @param name The option, for the message.
 * @param text The value given, or undefined.
 * @returns The number, or undefined when not given.
 * @throws {ReaderError} When the value is not a positive whole number.
 *
 * @example Parse `--last 5`
 * ```ts
 * import { parseLast } from "./select.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseLast("ttlog view", "--last", "5"), 5);
 * assert.throws(() => parseLast("ttlog view", "--last", "0"), /positive integer/);
 * ```
 */
export function parseLast(
  command: string,
  name: string,
  text: string | undefined,
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new ReaderError(
      `${command}: ${name} must be a positive integer, got ${
        JSON.stringify(text)
      }`,
      "argument",
    );
  }
  return n;
}
