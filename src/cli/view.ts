/**
 * `ttlog view` and `ttlog stats`: reading .ttlog files (snapshots) without
 * formatting more than is shown.
 *
 * @module
 */

import { ndjsonFormatter } from "../format/ndjson.ts";
import { textFormatter } from "../format/text.ts";
import { Level, type LevelName, parseLevel } from "../level.ts";
import type { LogRecord } from "../record/values.ts";
import { nodeFs } from "../runtime/builtin.ts";
import { readTtlog } from "../snapshot/chunk_reader.ts";

/** A CLI failure: printed as is, with a non-zero exit. */
export class CliError extends Error {
  /**
   * Creates the error.
   *
   * @param message What went wrong, for the user.
   */
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** What one file held. */
export interface FileEvents {
  /** The header metadata. */
  readonly meta: Record<string, unknown>;
  /** Every record, oldest first per producer. */
  readonly records: LogRecord[];
  /** Where a truncated file stopped, if it was. */
  readonly truncatedAt?: number;
}

/** Reads a .ttlog file; a missing or foreign file is a CliError. */
export function readFile(path: string): FileEvents {
  const fs = nodeFs("ttlog");
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(fs.readFileSync(path));
  } catch (error) {
    throw new CliError(
      `ttlog: cannot read ${path}: ${(error as Error).message}`,
    );
  }
  const result = readTtlog(bytes);
  if (
    result.items.length === 0 &&
    (result.error !== undefined || result.truncatedAt !== undefined)
  ) {
    throw new CliError(
      `ttlog: ${path} is not a .ttlog file${
        result.error ? ` (${result.error.message})` : ""
      }`,
    );
  }
  let meta: Record<string, unknown> = {};
  const records: LogRecord[] = [];
  for (const item of result.items) {
    if (item.kind === "header") meta = item.meta;
    else if (item.kind === "events") records.push(...item.records);
  }
  if (result.error !== undefined) {
    throw new CliError(`ttlog: ${path}: ${result.error.message}`);
  }
  return { meta, records, truncatedAt: result.truncatedAt };
}

/** Filters for `view`. */
export interface ViewFilter {
  /** Lowest level shown. */
  readonly level?: LevelName;
  /** Target (and its children) shown. */
  readonly target?: string;
  /** Text the message or a field value must contain. */
  readonly grep?: string;
  /** Only the last N events. */
  readonly last?: number;
}

/** The records of `files`, merged in time order and filtered. */
export function selectRecords(
  files: readonly FileEvents[],
  filter: ViewFilter,
): LogRecord[] {
  const all = files.flatMap((file) => file.records);
  all.sort((a, b) => a.time - b.time);
  const min = filter.level === undefined
    ? 0
    : parseLevel(filter.level, "--level");
  const selected = all.filter((record) => {
    if (Level[record.level] < min) return false;
    if (
      filter.target !== undefined && record.target !== filter.target &&
      !record.target.startsWith(filter.target + ".")
    ) return false;
    if (filter.grep !== undefined) {
      const text = record.msg + " " +
        JSON.stringify(
          record.fields,
          (_k, v) => typeof v === "bigint" ? String(v) : v,
        );
      if (!text.includes(filter.grep)) return false;
    }
    return true;
  });
  return filter.last === undefined ? selected : selected.slice(-filter.last);
}

/** Formats records as text or ndjson lines. */
export function formatRecords(
  records: readonly LogRecord[],
  format: "text" | "ndjson",
  color: boolean,
): string {
  const formatter = format === "ndjson"
    ? ndjsonFormatter()
    : textFormatter({ color });
  let out = "";
  for (const record of records) out += formatter(record) + "\n";
  return out;
}

/** Counts for `stats`. */
export interface Stats {
  /** Events in all. */
  readonly events: number;
  /** Events per level. */
  readonly levels: Record<string, number>;
  /** Events per target. */
  readonly targets: Record<string, number>;
  /** The busiest messages (call sites), most first. */
  readonly sites: { msg: string; count: number }[];
  /** First and last event time (ISO), if any. */
  readonly first?: string;
  /** The last event's time. */
  readonly last?: string;
}

/** Counts by level, target and call site. */
export function statsOf(records: readonly LogRecord[]): Stats {
  const levels: Record<string, number> = {};
  const targets: Record<string, number> = {};
  const sites = new Map<string, number>();
  for (const record of records) {
    levels[record.level] = (levels[record.level] ?? 0) + 1;
    targets[record.target] = (targets[record.target] ?? 0) + 1;
    sites.set(record.msg, (sites.get(record.msg) ?? 0) + 1);
  }
  let first = Infinity;
  let last = -Infinity;
  for (const record of records) {
    if (record.time < first) first = record.time;
    if (record.time > last) last = record.time;
  }
  return {
    events: records.length,
    levels,
    targets,
    sites: [...sites].map(([msg, count]) => ({ msg, count })).sort((a, b) =>
      b.count - a.count
    ).slice(0, 10),
    first: records.length > 0 ? new Date(first).toISOString() : undefined,
    last: records.length > 0 ? new Date(last).toISOString() : undefined,
  };
}
